using System.Buffers;
using System.Text.Json;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>What one SignalR JSON frame received before authentication is.</summary>
internal enum PreAuthenticationFrame
{
    /// <summary>
    /// Not a JSON object with a numeric <c>type</c>, nested deeper than a hub message can be, with a property twice, or
    /// with a field SignalR would read differently (a wrong type, a field the message kind may not carry).
    /// </summary>
    Malformed,

    /// <summary>A keep-alive ping (type 6) with nothing but its type: allowed, but it does not extend the authentication deadline.</summary>
    Ping,

    /// <summary>The client closing (type 7), with an optional string <c>error</c> and boolean <c>allowReconnect</c>: allowed.</summary>
    Close,

    /// <summary>
    /// An invocation (type 1) of <c>Authenticate</c> with exactly one string argument, an optional string invocation id,
    /// string headers, and no streams.
    /// </summary>
    Authenticate,

    /// <summary>An invocation of <c>Authenticate</c> with other arguments, streams, or fields SignalR would read differently.</summary>
    MalformedAuthenticate,

    /// <summary>An invocation (type 1) of any other method name, known or not.</summary>
    Invocation,

    /// <summary>A stream item (type 2).</summary>
    StreamItem,

    /// <summary>A completion (type 3).</summary>
    Completion,

    /// <summary>A stream invocation (type 4).</summary>
    StreamInvocation,

    /// <summary>A cancel invocation (type 5).</summary>
    CancelInvocation,

    /// <summary>Any other message type (acks, sequence messages, unknown numbers).</summary>
    Other,
}

/// <summary>
/// Classifies frames of the SignalR JSON protocol without binding them to hub methods, so that the gate sees every
/// message before SignalR does: unknown method names, stream items and completions included, which hub filters never see.
/// </summary>
/// <remarks>
/// The gate is a parser in front of SignalR's parser, so it lets a frame through only when SignalR will read it exactly
/// as the gate did: every field SignalR knows must have the JSON type SignalR reads it as (a wrong one makes SignalR
/// fail the whole connection with its own generic error), no property may appear twice (SignalR keeps the last one,
/// so <c>"arguments"</c> twice could pass the gate with one value and bind the other), and an allowed message carries
/// only the fields of its kind (an <c>item</c> with an invocation id turns any message into a stream binding failure
/// inside SignalR's parser). Unknown properties are skipped by both.
/// </remarks>
internal static class PreAuthenticationFrames
{
    private const string AuthenticateTarget = nameof(SecureHub<object>.Authenticate);

    // A hub message is an object holding arrays and objects (arguments, headers); anything deeper is refused unread.
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 4 };

    /// <summary>The fields SignalR's JSON protocol reads, one bit each.</summary>
    [Flags]
    private enum Field
    {
        None = 0,
        Type = 1 << 0,
        InvocationId = 1 << 1,
        Target = 1 << 2,
        Arguments = 1 << 3,
        StreamIds = 1 << 4,
        Headers = 1 << 5,
        Error = 1 << 6,
        AllowReconnect = 1 << 7,
        Result = 1 << 8,
        Item = 1 << 9,
        SequenceId = 1 << 10,
    }

    private const Field PingFields = Field.Type;
    private const Field CloseFields = Field.Type | Field.Error | Field.AllowReconnect;
    private const Field AuthenticateFields = Field.Type | Field.InvocationId | Field.Target | Field.Arguments | Field.StreamIds | Field.Headers;

    /// <summary>Classifies one frame, its <c>0x1e</c> separator excluded.</summary>
    public static PreAuthenticationFrame Classify(ReadOnlySequence<byte> frame)
    {
        try
        {
            return ClassifyCore(frame);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        // Stryker disable once Block: equivalent, an emptied catch returns default(PreAuthenticationFrame), which is Malformed
        {
            return PreAuthenticationFrame.Malformed;
        }
    }

    private static PreAuthenticationFrame ClassifyCore(ReadOnlySequence<byte> frame)
    {
        var reader = new Utf8JsonReader(frame, ReaderOptions);

        // Stryker disable once Logical,Block: equivalent, a frame that is no object fails the EndObject check below (or throws)
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return PreAuthenticationFrame.Malformed;
        }

        var message = new Reading();
        HashSet<string>? unknownNames = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader);
            if (field == Field.None)
            {
                // Skipped by SignalR too, but only once: a repeated name is refused like a repeated field.
                if (!(unknownNames ??= new(StringComparer.Ordinal)).Add(reader.GetString()!))
                {
                    message.Defective = true;
                }

                // Stryker disable once Statement: equivalent, Skip on a property name skips its value too
                reader.Read();
                reader.Skip();
                continue;
            }

            if ((message.Fields & field) != 0)
            {
                message.Defective = true;
            }

            // Stryker disable once Assignment: equivalent for ^=, a field seen twice has already made the message defective, which decides the verdict before the fields are looked at; the &= it also skips is killed by the frame tests
            message.Fields |= field;
            reader.Read();
            if (!ReadField(ref reader, field, ref message))
            {
                message.Defective = true;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        // Stryker disable once Block: unreachable, the loop ends only at EndObject and the reader throws on anything after it
        {
            return PreAuthenticationFrame.Malformed;
        }

        return Verdict(message);
    }

    private static PreAuthenticationFrame Verdict(Reading message)
    {
        if (message.Type == 1 && message.TargetIsAuthenticate)
        {
            return !message.Defective && (message.Fields & ~AuthenticateFields) == 0
                && message.StringArguments == 1 && message.OtherArguments == 0 && !message.HasStreams
                ? PreAuthenticationFrame.Authenticate
                : PreAuthenticationFrame.MalformedAuthenticate;
        }

        if (message.Defective || message.Type is null)
        {
            return PreAuthenticationFrame.Malformed;
        }

        return message.Type switch
        {
            1 => PreAuthenticationFrame.Invocation,
            2 => PreAuthenticationFrame.StreamItem,
            3 => PreAuthenticationFrame.Completion,
            4 => PreAuthenticationFrame.StreamInvocation,
            5 => PreAuthenticationFrame.CancelInvocation,
            6 => (message.Fields & ~PingFields) == 0 ? PreAuthenticationFrame.Ping : PreAuthenticationFrame.Malformed,
            7 => (message.Fields & ~CloseFields) == 0 ? PreAuthenticationFrame.Close : PreAuthenticationFrame.Malformed,
            _ => PreAuthenticationFrame.Other,
        };
    }

    private static Field FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("type"u8) ? Field.Type
        : reader.ValueTextEquals("invocationId"u8) ? Field.InvocationId
        : reader.ValueTextEquals("target"u8) ? Field.Target
        : reader.ValueTextEquals("arguments"u8) ? Field.Arguments
        : reader.ValueTextEquals("streamIds"u8) ? Field.StreamIds
        : reader.ValueTextEquals("headers"u8) ? Field.Headers
        : reader.ValueTextEquals("error"u8) ? Field.Error
        : reader.ValueTextEquals("allowReconnect"u8) ? Field.AllowReconnect
        : reader.ValueTextEquals("result"u8) ? Field.Result
        : reader.ValueTextEquals("item"u8) ? Field.Item
        : reader.ValueTextEquals("sequenceId"u8) ? Field.SequenceId
        : Field.None;

    /// <summary>Reads the value of <paramref name="field"/>; false when SignalR would read it differently or fail on it.</summary>
    private static bool ReadField(ref Utf8JsonReader reader, Field field, ref Reading message)
    {
        switch (field)
        {
            case Field.Type:
                // SignalR reads a JSON null as "no type" and fails later; anything but an Int32 number fails it at once.
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var type))
                {
                    // Stryker disable once Boolean: equivalent, a type left unset makes the frame Malformed anyway
                    return false;
                }

                message.Type = type;
                return true;
            case Field.InvocationId or Field.Error:
                return ReadString(ref reader) is not null;
            case Field.Target:
                var target = ReadString(ref reader);
                message.TargetIsAuthenticate |= string.Equals(target, AuthenticateTarget, StringComparison.Ordinal);
                return target is not null;
            case Field.AllowReconnect:
                return reader.TokenType is JsonTokenType.True or JsonTokenType.False;
            case Field.SequenceId:
                return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out _);
            case Field.Arguments:
                return ReadArguments(ref reader, ref message);
            case Field.StreamIds:
                return ReadStreamIds(ref reader, ref message);
            case Field.Headers:
                return ReadHeaders(ref reader);
            default:
                // Result and Item: any value; neither is among the fields an allowed message may carry.
                reader.Skip();
                return true;
        }
    }

    private static string? ReadString(ref Utf8JsonReader reader) =>
        // Decoding validates the UTF-8, which the reader alone does not; SignalR decodes these strings too.
        reader.TokenType == JsonTokenType.String ? reader.GetString() : null;

    private static bool ReadArguments(ref Utf8JsonReader reader, ref Reading message)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                _ = reader.GetString();
                message.StringArguments++;
            }
            else
            {
                // Stryker disable once Update: equivalent, only OtherArguments == 0 is tested, and -1 is not 0 either
                message.OtherArguments++;
                reader.Skip();
            }
        }

        return true;
    }

    private static bool ReadStreamIds(ref Utf8JsonReader reader, ref Reading message)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        var valid = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            message.HasStreams = true;
            valid &= ReadString(ref reader) is not null;
            reader.Skip();
        }

        return valid;
    }

    private static bool ReadHeaders(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var valid = true;
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            valid &= names.Add(reader.GetString()!);
            reader.Read();
            valid &= ReadString(ref reader) is not null;
            reader.Skip();
        }

        return valid;
    }

    /// <summary>What has been read of one frame so far.</summary>
    private struct Reading
    {
        public Field Fields;
        public int? Type;
        public bool TargetIsAuthenticate;
        public int StringArguments;
        public int OtherArguments;
        public bool HasStreams;
        public bool Defective;
    }
}
