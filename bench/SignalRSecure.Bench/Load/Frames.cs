using System.Buffers.Text;
using System.Text;

namespace SignalRSecure.Bench.Load;

/// <summary>
/// Pre-encoded SignalR frames, JSON by default and MessagePack on request (<see cref="MessagePackFrames"/>). Each
/// invocation carries a 32-character text, <c>@</c> followed by a 16-digit hex <see cref="System.Diagnostics.Stopwatch"/> timestamp and padding, so that any reply or delivery that quotes the
/// text tells when it was meant to be sent. The timestamp and the invocation id are patched in place, at fixed
/// offsets: nothing is serialized while measuring.
/// </summary>
internal static class Frames
{
    public const byte RecordSeparator = 0x1e;
    public const byte StampMarker = (byte)'@';
    private const int StampDigits = 16;
    private const int IdDigits = 8;
    private const string Text = "@0000000000000000...............";

    public static readonly byte[] Handshake = Encode("""{"protocol":"json","version":1}""");

    public static readonly byte[] Ping = Encode("""{"type":6}""");

    /// <summary>The handshake that picks <paramref name="protocol"/>.</summary>
    public static byte[] HandshakeFor(HubProtocol protocol) => protocol == HubProtocol.MessagePack ? MessagePackFrames.Handshake : Handshake;

    /// <summary>The 32-character text, as Echo, Broadcast and SendToGroup send it.</summary>
    public static int TextLength => Text.Length;

    public static byte[] Authenticate(string ticket, HubProtocol protocol = HubProtocol.Json) => protocol == HubProtocol.MessagePack
        ? MessagePackFrames.Invocation("0", "Authenticate", ticket)
        : Encode($$"""{"type":1,"invocationId":"0","target":"Authenticate","arguments":["{{ticket}}"]}""");

    public static byte[] JoinGroup(string group, HubProtocol protocol = HubProtocol.Json) => protocol == HubProtocol.MessagePack
        ? MessagePackFrames.Invocation("0", "JoinGroup", group)
        : Encode($$"""{"type":1,"invocationId":"0","target":"JoinGroup","arguments":["{{group}}"]}""");

    public static byte[] Echo(HubProtocol protocol = HubProtocol.Json) => protocol == HubProtocol.MessagePack
        ? MessagePackFrames.Invocation("00000000", "Echo", Text)
        : Encode($$"""{"type":1,"invocationId":"00000000","target":"Echo","arguments":["{{Text}}"]}""");

    public static byte[] Broadcast(HubProtocol protocol = HubProtocol.Json) => protocol == HubProtocol.MessagePack
        ? MessagePackFrames.Invocation("00000000", "Broadcast", Text)
        : Encode($$"""{"type":1,"invocationId":"00000000","target":"Broadcast","arguments":["{{Text}}"]}""");

    public static byte[] SendToGroup(string group, HubProtocol protocol = HubProtocol.Json) => protocol == HubProtocol.MessagePack
        ? MessagePackFrames.Invocation("00000000", "SendToGroup", group, Text)
        : Encode($$"""{"type":1,"invocationId":"00000000","target":"SendToGroup","arguments":["{{group}}","{{Text}}"]}""");

    /// <summary>Writes <paramref name="stamp"/> and <paramref name="invocationId"/> into a frame made by this class.</summary>
    public static void Patch(byte[] frame, long stamp, long invocationId)
    {
        var span = frame.AsSpan();
        if (MessagePackFrames.IsMessagePackFrame(span))
        {
            MessagePackFrames.Patch(span, stamp, invocationId);
            return;
        }

        var at = span.IndexOf(StampMarker) + 1;
        WriteHex(span.Slice(at, StampDigits), (ulong)stamp);
        var id = span.IndexOf("\"invocationId\":\""u8);
        if (id >= 0 && span[id + 16 + IdDigits] == (byte)'"')
        {
            var digits = span.Slice(id + 16, IdDigits);
            var value = (ulong)invocationId % 100_000_000;
            for (var i = IdDigits - 1; i >= 0; i--)
            {
                digits[i] = (byte)('0' + (value % 10));
                value /= 10;
            }
        }
    }

    /// <summary>The timestamp quoted in <paramref name="record"/>, or -1 when it quotes none.</summary>
    public static long ReadStamp(ReadOnlySpan<byte> record)
    {
        if (MessagePackFrames.IsMessagePack(record))
        {
            return MessagePackFrames.ReadStamp(record);
        }

        var at = record.IndexOf(StampMarker);
        if (at < 0 || record.Length < at + 1 + StampDigits)
        {
            return -1;
        }

        return Utf8Parser.TryParse(record.Slice(at + 1, StampDigits), out ulong value, out var consumed, 'X') && consumed == StampDigits
            ? (long)value
            : -1;
    }

    /// <summary>The SignalR message type of a record (<c>{"type":N</c>, or a MessagePack array's first item), 0 for a handshake response, -1 if unknown.</summary>
    public static int TypeOf(ReadOnlySpan<byte> record)
    {
        if (MessagePackFrames.IsMessagePack(record))
        {
            return MessagePackFrames.TypeOf(record);
        }

        if (record.StartsWith("{\"type\":"u8) && record.Length > 8 && char.IsAsciiDigit((char)record[8]))
        {
            return record[8] - '0';
        }

        return record.StartsWith("{"u8) && (record.Length == 2 || record.StartsWith("{\"error\""u8)) ? 0 : -1;
    }

    /// <summary>Whether a completion (type 3) reports an error.</summary>
    public static bool HasError(ReadOnlySpan<byte> record) =>
        MessagePackFrames.IsMessagePack(record) ? MessagePackFrames.HasError(record) : record.IndexOf("\"error\":"u8) >= 0;

    internal static void WriteHex(Span<byte> destination, ulong value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            var digit = (int)(value & 0xF);
            destination[i] = (byte)(digit < 10 ? '0' + digit : 'A' + digit - 10);
            value >>= 4;
        }
    }

    private static byte[] Encode(string json)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(json) + 1];
        Encoding.UTF8.GetBytes(json, bytes);
        bytes[^1] = RecordSeparator;
        return bytes;
    }
}
