using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using MessagePack;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// Writes and reads SignalR MessagePack frames byte by byte for the raw tests: a varint length, then the message
/// array. Values are .NET objects (null, bool, int, long, double, string, byte[], object?[] for arrays,
/// <see cref="Map"/> for maps) or <see cref="Raw"/> bytes written as they are, for frames no client would write.
/// </summary>
public static class MessagePackFrame
{
    /// <summary>The name of the protocol in the SignalR handshake.</summary>
    public const string ProtocolName = "messagepack";

    /// <summary>Bytes written verbatim in place of a value.</summary>
    public sealed record Raw(params byte[] Bytes);

    /// <summary>A map of string keys, in order (duplicates allowed, unlike a dictionary).</summary>
    public sealed class Map : List<KeyValuePair<object?, object?>>
    {
        public void Add(object? key, object? value) => Add(new KeyValuePair<object?, object?>(key, value));
    }

    /// <summary>The header of an array of <paramref name="count"/> items, whatever follows it.</summary>
    public static Raw ArrayHeader(long count) => new(Pack((ref MessagePackWriter writer) => writer.WriteArrayHeader((uint)count)));

    /// <summary>The payload of a message: <paramref name="items"/> as one array.</summary>
    public static byte[] Message(params object?[] items) => Pack(items);

    /// <summary>One value encoded.</summary>
    public static byte[] Pack(object? value) => Pack((ref MessagePackWriter writer) => Write(ref writer, value));

    /// <summary><paramref name="payload"/> with its varint length in front.</summary>
    public static byte[] Frame(byte[] payload) => [.. Prefix(payload.Length), .. payload];

    /// <summary>The varint length prefix of a payload of <paramref name="length"/> bytes, as SignalR writes it.</summary>
    public static byte[] Prefix(long length)
    {
        var bytes = new List<byte>(5);
        do
        {
            var next = (byte)(length & 0x7f);
            length >>= 7;
            bytes.Add(length > 0 ? (byte)(next | 0x80) : next);
        }
        while (length > 0);

        return [.. bytes];
    }

    /// <summary>The frame of an invocation as the official clients write it.</summary>
    public static byte[] Invocation(string? invocationId, string target, params object?[] arguments) =>
        Frame(Message(1, new Map(), invocationId, target, arguments, Array.Empty<object?>()));

    /// <summary>
    /// Splits <paramref name="bytes"/> into frames and reads each message as the JSON protocol would carry it
    /// (<c>{"type":7,"error":"...","allowReconnect":false}</c>), map keys in camelCase, so that tests check both
    /// protocols the same way.
    /// </summary>
    public static IEnumerable<JsonElement> ReadMessages(byte[] bytes)
    {
        var rest = bytes.AsMemory();
        while (!rest.IsEmpty)
        {
            var length = 0L;
            var shift = 0;
            var index = 0;
            byte next;
            do
            {
                next = rest.Span[index++];
                length |= (long)(next & 0x7f) << shift;
                shift += 7;
            }
            while ((next & 0x80) != 0);

            var payload = rest.Slice(index, (int)length);
            rest = rest[(index + (int)length)..];
            yield return ToJsonShape(payload);
        }
    }

    private static JsonElement ToJsonShape(ReadOnlyMemory<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        var items = ReadValue(ref reader) as JsonArray ?? throw new InvalidDataException("A message is not an array.");
        var type = items[0]!.GetValue<long>();
        var message = new JsonObject { ["type"] = type };
        switch (type)
        {
            case 1 or 4:
                message["invocationId"] = items[2]?.DeepClone();
                message["target"] = items[3]?.DeepClone();
                message["arguments"] = items[4]?.DeepClone();
                break;
            case 2:
                message["invocationId"] = items[2]?.DeepClone();
                message["item"] = items[3]?.DeepClone();
                break;
            case 3:
                message["invocationId"] = items[2]?.DeepClone();
                switch (items[3]!.GetValue<long>())
                {
                    case 1:
                        message["error"] = items[4]?.DeepClone();
                        break;
                    case 3:
                        message["result"] = items[4]?.DeepClone();
                        break;
                }

                break;
            case 7:
                if (items[1] is not null)
                {
                    message["error"] = items[1]!.DeepClone();
                }

                message["allowReconnect"] = items.Count > 2 && items[2]!.GetValue<bool>();
                break;
        }

        return JsonSerializer.SerializeToElement(message);
    }

    private static JsonNode? ReadValue(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                return null;
            case MessagePackType.Boolean:
                return reader.ReadBoolean();
            case MessagePackType.Integer:
                return reader.ReadInt64();
            case MessagePackType.Float:
                return reader.ReadDouble();
            case MessagePackType.String:
                return reader.ReadString();
            case MessagePackType.Binary:
                return Convert.ToBase64String(reader.ReadBytes()!.Value.ToArray());
            case MessagePackType.Array:
                var array = new JsonArray();
                for (var i = reader.ReadArrayHeader(); i > 0; i--)
                {
                    array.Add(ReadValue(ref reader));
                }

                return array;
            case MessagePackType.Map:
                var map = new JsonObject();
                for (var i = reader.ReadMapHeader(); i > 0; i--)
                {
                    var key = reader.ReadString()!;
                    map[JsonNamingPolicy.CamelCase.ConvertName(key)] = ReadValue(ref reader);
                }

                return map;
            case MessagePackType.Extension when reader.ReadExtensionFormatHeader() is { TypeCode: -1 } timestamp:
                // A DateTime (the session's end): the raw tests only check that it is there.
                reader.ReadRaw(timestamp.Length);
                return "timestamp";
            default:
                reader.Skip();
                return null;
        }
    }

    private static byte[] Pack(WriteAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(ref MessagePackWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNil();
                break;
            case bool flag:
                writer.Write(flag);
                break;
            case int number:
                writer.Write(number);
                break;
            case long number:
                writer.Write(number);
                break;
            case double number:
                writer.Write(number);
                break;
            case string text:
                writer.Write(text);
                break;
            case byte[] bytes:
                writer.Write(bytes);
                break;
            case Raw raw:
                writer.WriteRaw(raw.Bytes);
                break;
            case Map map:
                writer.WriteMapHeader(map.Count);
                foreach (var (key, item) in map)
                {
                    Write(ref writer, key);
                    Write(ref writer, item);
                }

                break;
            case object?[] items:
                writer.WriteArrayHeader(items.Length);
                foreach (var item in items)
                {
                    Write(ref writer, item);
                }

                break;
            default:
                throw new ArgumentException($"Cannot write a {value.GetType().Name}.", nameof(value));
        }
    }

    private delegate void WriteAction(ref MessagePackWriter writer);
}
