using System.Buffers;
using System.Text.Json;

namespace SignalRSecure.Server.Gate;

/// <summary>What one SignalR JSON frame received before authentication is.</summary>
internal enum PreAuthenticationFrame
{
    /// <summary>Not a JSON object with a numeric <c>type</c>, or nested deeper than a hub message can be.</summary>
    Malformed,

    /// <summary>A keep-alive ping (type 6): allowed, but it does not extend the authentication deadline.</summary>
    Ping,

    /// <summary>The client closing (type 7): allowed.</summary>
    Close,

    /// <summary>An invocation (type 1) of <c>Authenticate</c> with exactly one string argument and no streams.</summary>
    Authenticate,

    /// <summary>An invocation of <c>Authenticate</c> with other arguments or with streams.</summary>
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
internal static class PreAuthenticationFrames
{
    private const string AuthenticateTarget = nameof(Contracts.IChatHub.Authenticate);

    // A hub message is an object holding arrays and objects (arguments, headers); anything deeper is refused unread.
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 4 };

    /// <summary>Classifies one frame, its <c>0x1e</c> separator excluded.</summary>
    public static PreAuthenticationFrame Classify(ReadOnlySequence<byte> frame)
    {
        try
        {
            return ClassifyCore(frame);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return PreAuthenticationFrame.Malformed;
        }
    }

    private static PreAuthenticationFrame ClassifyCore(ReadOnlySequence<byte> frame)
    {
        var reader = new Utf8JsonReader(frame, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return PreAuthenticationFrame.Malformed;
        }

        int? type = null;
        var targetIsAuthenticate = false;
        var stringArguments = 0;
        var otherArguments = 0;
        var hasStreams = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) ? number : -1;
            }
            else if (reader.ValueTextEquals("target"u8))
            {
                reader.Read();
                targetIsAuthenticate = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(AuthenticateTarget);
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    return PreAuthenticationFrame.Malformed;
                }

                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        // Decoding validates the UTF-8, which the reader alone does not.
                        _ = reader.GetString();
                        stringArguments++;
                    }
                    else
                    {
                        otherArguments++;
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("streamIds"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    var peek = reader;
                    peek.Read();
                    hasStreams = peek.TokenType != JsonTokenType.EndArray;
                }

                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return PreAuthenticationFrame.Malformed;
        }

        return type switch
        {
            1 when targetIsAuthenticate => stringArguments == 1 && otherArguments == 0 && !hasStreams
                ? PreAuthenticationFrame.Authenticate
                : PreAuthenticationFrame.MalformedAuthenticate,
            1 => PreAuthenticationFrame.Invocation,
            2 => PreAuthenticationFrame.StreamItem,
            3 => PreAuthenticationFrame.Completion,
            4 => PreAuthenticationFrame.StreamInvocation,
            5 => PreAuthenticationFrame.CancelInvocation,
            6 => PreAuthenticationFrame.Ping,
            7 => PreAuthenticationFrame.Close,
            null => PreAuthenticationFrame.Malformed,
            _ => PreAuthenticationFrame.Other,
        };
    }
}
