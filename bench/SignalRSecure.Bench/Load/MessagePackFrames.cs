using System.Buffers.Text;
using System.Text;

namespace SignalRSecure.Bench.Load;

/// <summary>
/// Pre-encoded frames of SignalR's MessagePack hub protocol, written by hand: a varint length prefix (7 bits a byte,
/// least significant first), then the message array. An invocation is <c>[1, {}, invocationId, target, [arguments], []]</c>,
/// a completion <c>[3, {}, invocationId, resultKind, result]</c>, a ping <c>[6]</c>. Invocations have the same layout
/// as <see cref="Frames"/>' JSON ones: an 8-digit invocation id right after the empty headers and the 32-character
/// stamped text as a <c>str8</c>, both patched in place.
/// </summary>
internal static class MessagePackFrames
{
    /// <summary>The handshake stays JSON whatever the protocol, with the record separator.</summary>
    public static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"messagepack\",\"version\":1}\u001e");

    // SignalR reads at most five prefix bytes (2 GB - 1).
    private const int MaximumPrefix = 5;
    private const int InvocationType = 1;
    private const int CompletionType = 3;
    private const int ErrorResult = 1;
    private const int IdDigits = 8;
    private const byte Str8 = 0xd9;

    // The stamped text is 32 characters, one more than a fixstr holds: always a str8 of length 32, then '@'.
    private static readonly byte[] StampPrefix = [Str8, 32, Frames.StampMarker];

    /// <summary>An invocation frame: <c>[1, {}, invocationId, target, [arguments], []]</c> with its length prefix.</summary>
    public static byte[] Invocation(string invocationId, string target, params string[] arguments)
    {
        var body = new List<byte> { 0x96, InvocationType, 0x80 };
        WriteString(body, invocationId);
        WriteString(body, target);
        body.Add((byte)(0x90 | arguments.Length));
        foreach (var argument in arguments)
        {
            WriteString(body, argument);
        }

        body.Add(0x90);
        var frame = new List<byte>();
        for (var length = (uint)body.Count; ; length >>= 7)
        {
            if (length < 0x80)
            {
                frame.Add((byte)length);
                break;
            }

            frame.Add((byte)(length | 0x80));
        }

        frame.AddRange(body);
        return [.. frame];
    }

    /// <summary>Whether <paramref name="record"/> (a frame without its prefix) is a MessagePack array rather than JSON.</summary>
    public static bool IsMessagePack(ReadOnlySpan<byte> record) => record.Length > 1 && (record[0] & 0xf0) == 0x90;

    /// <summary>Whether <paramref name="frame"/> (with its prefix) was made by this class rather than <see cref="Frames"/>.</summary>
    public static bool IsMessagePackFrame(ReadOnlySpan<byte> frame) => frame.Length > 0 && frame[0] != (byte)'{';

    /// <summary>
    /// Reads the length prefix at the start of <paramref name="buffer"/>: false when it has not fully arrived.
    /// Throws on a prefix longer than SignalR writes.
    /// </summary>
    public static bool TryReadLengthPrefix(ReadOnlySpan<byte> buffer, out int prefixLength, out int payloadLength)
    {
        var value = 0;
        for (var i = 0; i < Math.Min(buffer.Length, MaximumPrefix); i++)
        {
            value |= (buffer[i] & 0x7f) << (7 * i);
            if ((buffer[i] & 0x80) == 0)
            {
                prefixLength = i + 1;
                payloadLength = value;
                return true;
            }
        }

        if (buffer.Length >= MaximumPrefix)
        {
            throw new InvalidOperationException("a MessagePack length prefix longer than 5 bytes");
        }

        prefixLength = 0;
        payloadLength = 0;
        return false;
    }

    /// <summary>Writes <paramref name="stamp"/> and <paramref name="invocationId"/> into an invocation made by <see cref="Invocation"/>.</summary>
    public static void Patch(Span<byte> frame, long stamp, long invocationId)
    {
        var payload = 0;
        while ((frame[payload] & 0x80) != 0)
        {
            payload++;
        }

        payload++;
        var at = frame.IndexOf(StampPrefix) + StampPrefix.Length;
        Frames.WriteHex(frame.Slice(at, 16), (ulong)stamp);

        // [0x96, 1, {}, fixstr of 8 digits: the id, when the frame was made with one.
        if (frame[payload + 3] == 0xa0 + IdDigits)
        {
            var digits = frame.Slice(payload + 4, IdDigits);
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
        var at = record.IndexOf(StampPrefix);
        if (at < 0 || record.Length < at + StampPrefix.Length + 16)
        {
            return -1;
        }

        return Utf8Parser.TryParse(record.Slice(at + StampPrefix.Length, 16), out ulong value, out var consumed, 'X') && consumed == 16
            ? (long)value
            : -1;
    }

    /// <summary>The message type: the first element of the array (a positive fixint for every SignalR message).</summary>
    public static int TypeOf(ReadOnlySpan<byte> record) => record[1] < 0x80 ? record[1] : -1;

    /// <summary>Whether a completion <c>[3, headers, invocationId, resultKind, ...]</c> carries an error.</summary>
    public static bool HasError(ReadOnlySpan<byte> record)
    {
        if (TypeOf(record) != CompletionType)
        {
            return false;
        }

        var at = 2;
        if ((record[at] & 0xf0) != 0x80)
        {
            // Headers other than a fixmap: nothing this server sends; read it as an error rather than guess.
            return true;
        }

        var headers = record[at++] & 0x0f;
        for (var i = 0; i < headers * 2; i++)
        {
            at = SkipString(record, at);
        }

        at = SkipString(record, at);
        return at < 0 || at >= record.Length || record[at] == ErrorResult;
    }

    private static int SkipString(ReadOnlySpan<byte> record, int at)
    {
        if (at < 0 || at >= record.Length)
        {
            return -1;
        }

        var header = record[at];
        return header switch
        {
            >= 0xa0 and <= 0xbf => at + 1 + (header & 0x1f),
            Str8 when at + 1 < record.Length => at + 2 + record[at + 1],
            0xc0 => at + 1,
            _ => -1,
        };
    }

    private static void WriteString(List<byte> body, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length < 32)
        {
            body.Add((byte)(0xa0 | bytes.Length));
        }
        else if (bytes.Length < 256)
        {
            body.Add(Str8);
            body.Add((byte)bytes.Length);
        }
        else
        {
            body.Add(0xda);
            body.Add((byte)(bytes.Length >> 8));
            body.Add((byte)bytes.Length);
        }

        body.AddRange(bytes);
    }
}
