using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// A hand-written SignalR JSON protocol client over a bare <see cref="ClientWebSocket"/> that skips negotiate, for
/// the adversarial tests: it sends exactly the bytes a test asks for. With the MessagePack protocol
/// (<see cref="MessagePackFrame.ProtocolName"/>) it sends binary frames and reads the server's messages in the shape
/// the JSON protocol gives them (<see cref="MessagePackFrame.ReadMessages"/>), so that a test checks both the same way.
/// </summary>
public sealed class RawHubSocket : IAsyncDisposable
{
    public const char RecordSeparator = '\u001e';
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public const string JsonProtocol = "json";

    private readonly ClientWebSocket _socket;
    private readonly Queue<JsonElement> _pending = new();
    private int _nextInvocationId;

    // The handshake answer is JSON text whatever the protocol, though it arrives in a binary message for MessagePack.
    private bool _handshakeAnswered;

    private RawHubSocket(ClientWebSocket socket, string protocol)
    {
        _socket = socket;
        Protocol = protocol;
    }

    public WebSocketState State => _socket.State;

    /// <summary>The hub protocol the handshake names: <see cref="JsonProtocol"/> or <see cref="MessagePackFrame.ProtocolName"/>.</summary>
    public string Protocol { get; }

    private bool IsMessagePack => Protocol == MessagePackFrame.ProtocolName;

    /// <summary>The server's invocations of client callbacks that <see cref="CallAsync"/> read past while waiting for its answer.</summary>
    public List<JsonElement> PassedOver { get; } = [];

    /// <summary>Opens the WebSocket; throws <see cref="WebSocketException"/> when the server refuses the upgrade.</summary>
    public static async Task<RawHubSocket> ConnectAsync(
        Uri uri, string? origin = null, IPAddress? from = null, SocketControl? control = null, string? userAgent = null, string protocol = JsonProtocol)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (userAgent is not null)
        {
            socket.Options.SetRequestHeader("User-Agent", userAgent);
        }

        try
        {
            await ConnectCoreAsync(socket, uri, from, control);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new RawHubSocket(socket, protocol);
    }

    /// <summary>Attempts the upgrade and returns the HTTP status the server answered with (101 on success).</summary>
    public static async Task<HttpStatusCode> TryConnectAsync(Uri uri, string? origin = null, IPAddress? from = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        try
        {
            await ConnectCoreAsync(socket, uri, from, control: null);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    /// <summary>Connects and completes the handshake of <paramref name="protocol"/> (JSON by default).</summary>
    public static async Task<RawHubSocket> ConnectWithHandshakeAsync(
        Uri uri, string? origin = null, IPAddress? from = null, SocketControl? control = null, string? userAgent = null, string protocol = JsonProtocol)
    {
        var socket = await ConnectAsync(uri, origin, from, control, userAgent, protocol);
        await socket.HandshakeAsync();
        return socket;
    }

    public async Task HandshakeAsync()
    {
        // The handshake is JSON text whatever protocol it names.
        await SendFrameAsync($$"""{"protocol":"{{Protocol}}","version":1}""");
        var response = await ReceiveAsync();
        if (response.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"Handshake refused: {error}");
        }
    }

    /// <summary>Sends <paramref name="json"/> followed by the record separator, as one text message.</summary>
    public Task SendFrameAsync(string json) => SendRawAsync(Encoding.UTF8.GetBytes(json + RecordSeparator));

    public Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text, bool endOfMessage = true) =>
        _socket.SendAsync(bytes, type, endOfMessage, CancellationToken.None).WaitAsync(Timeout);

    /// <summary>An invocation frame in this socket's protocol, its separator or length prefix included.</summary>
    public byte[] EncodeInvocation(string? invocationId, string target, params object?[] arguments) =>
        IsMessagePack
            ? MessagePackFrame.Invocation(invocationId, target, arguments)
            : Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { type = 1, invocationId, target, arguments }) + RecordSeparator);

    /// <summary>A ping frame in this socket's protocol.</summary>
    public byte[] EncodePing() => IsMessagePack ? MessagePackFrame.Frame(MessagePackFrame.Message(6)) : Encoding.UTF8.GetBytes("{\"type\":6}" + RecordSeparator);

    /// <summary>Sends frames of this socket's protocol (<see cref="EncodeInvocation"/>, <see cref="EncodePing"/>) as one WebSocket message.</summary>
    public Task SendEncodedAsync(params byte[][] frames) =>
        SendRawAsync([.. frames.SelectMany(frame => frame)], IsMessagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text);

    /// <summary>Sends MessagePack bytes (whole frames, their length prefixes included) as one binary message.</summary>
    public Task SendBinaryAsync(byte[] bytes) => SendRawAsync(bytes, WebSocketMessageType.Binary);

    /// <summary>Sends one MessagePack frame: <paramref name="payload"/> after its length prefix.</summary>
    public Task SendMessagePackAsync(byte[] payload) => SendBinaryAsync(MessagePackFrame.Frame(payload));

    /// <summary>Sends an invocation and returns its id.</summary>
    public async Task<string> InvokeAsync(string target, params object?[] arguments)
    {
        var id = (++_nextInvocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (IsMessagePack)
        {
            await SendBinaryAsync(MessagePackFrame.Invocation(id, target, arguments));
        }
        else
        {
            await SendFrameAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target, arguments }));
        }

        return id;
    }

    /// <summary>Invokes and waits for the completion: the result, or the error text.</summary>
    public async Task<(JsonElement? Result, string? Error)> CallAsync(string target, params object?[] arguments)
    {
        var id = await InvokeAsync(target, arguments);
        while (true)
        {
            var message = await ReceiveAsync();
            if (message.GetProperty("type").GetInt32() == 3 && message.GetProperty("invocationId").GetString() == id)
            {
                return (message.TryGetProperty("result", out var result) ? result.Clone() : null,
                        message.TryGetProperty("error", out var error) ? error.GetString() : null);
            }

            if (message.GetProperty("type").GetInt32() == 7)
            {
                throw new InvalidOperationException($"Closed while waiting for {target}: {message}");
            }

            if (message.GetProperty("type").GetInt32() == 1)
            {
                PassedOver.Add(message);
            }
        }
    }

    /// <summary>The next message that is not a ping; throws when the socket closes first.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        while (true)
        {
            var message = await ReceiveAnyAsync() ?? throw new InvalidOperationException("The socket closed.");
            if (!message.TryGetProperty("type", out var type) || type.GetInt32() != 6)
            {
                return message;
            }
        }
    }

    /// <summary>
    /// Reads until the server's close message and returns its error text (null for a close without error), or
    /// returns null when the socket closes without one. Throws if a message other than a ping or close arrives.
    /// </summary>
    public async Task<CloseOutcome> ReceiveCloseAsync()
    {
        while (true)
        {
            var message = await ReceiveAnyAsync();
            if (message is null)
            {
                return new CloseOutcome(ReceivedCloseMessage: false, Error: null, AllowReconnect: false);
            }

            var type = message.Value.GetProperty("type").GetInt32();
            if (type == 7)
            {
                return new CloseOutcome(
                    true,
                    message.Value.TryGetProperty("error", out var error) ? error.GetString() : null,
                    message.Value.TryGetProperty("allowReconnect", out var allow) && allow.GetBoolean());
            }

            if (type != 6)
            {
                throw new InvalidOperationException($"Expected the connection to close, but received {message}");
            }
        }
    }

    /// <summary>Every message but pings until the server closes the socket, close messages included.</summary>
    public async Task<IReadOnlyList<JsonElement>> ReceiveUntilSocketClosesAsync()
    {
        var messages = new List<JsonElement>();
        while (await ReceiveAnyAsync() is { } message)
        {
            if (message.GetProperty("type").GetInt32() != 6)
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    /// <summary>Whether the socket is closed by the server without anything but pings arriving first.</summary>
    public async Task WaitForSocketCloseAsync()
    {
        while (await ReceiveAnyAsync() is not null)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Timeout);
            }
            catch (Exception ex) when (ex is WebSocketException or TimeoutException or OperationCanceledException)
            {
            }
        }

        _socket.Dispose();
    }

    private static Task ConnectCoreAsync(ClientWebSocket socket, Uri uri, IPAddress? from, SocketControl? control) =>
        from is null && control is null
            ? socket.ConnectAsync(uri, CancellationToken.None).WaitAsync(Timeout)
            : socket.ConnectAsync(uri, new HttpMessageInvoker(LoopbackAddress.HandlerFrom(from ?? IPAddress.Loopback, control: control)), CancellationToken.None).WaitAsync(Timeout);

    private async Task<JsonElement?> ReceiveAnyAsync()
    {
        if (_pending.Count > 0)
        {
            return _pending.Dequeue();
        }

        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Timeout);
            }
            catch (WebSocketException)
            {
                return null;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }

            if (result.MessageType == WebSocketMessageType.Binary)
            {
                var bytes = message.ToArray();
                if (!_handshakeAnswered && Array.IndexOf(bytes, (byte)RecordSeparator) is var end and >= 0)
                {
                    _handshakeAnswered = true;
                    _pending.Enqueue(JsonDocument.Parse(bytes.AsMemory(0, end)).RootElement.Clone());
                    bytes = bytes[(end + 1)..];
                }

                foreach (var frame in MessagePackFrame.ReadMessages(bytes))
                {
                    _pending.Enqueue(frame);
                }
            }
            else
            {
                _handshakeAnswered = true;
                foreach (var frame in Encoding.UTF8.GetString(message.ToArray()).Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    _pending.Enqueue(JsonDocument.Parse(frame).RootElement.Clone());
                }
            }

            if (_pending.Count > 0)
            {
                return _pending.Dequeue();
            }

            message.SetLength(0);
        }
    }
}

/// <summary>How the server ended a raw connection.</summary>
/// <param name="ReceivedCloseMessage">Whether a SignalR close message arrived before the socket closed.</param>
/// <param name="Error">Its error text.</param>
/// <param name="AllowReconnect">Its allowReconnect flag.</param>
public sealed record CloseOutcome(bool ReceivedCloseMessage, string? Error, bool AllowReconnect);
