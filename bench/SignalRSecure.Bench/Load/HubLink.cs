using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace SignalRSecure.Bench.Load;

/// <summary>What a pumped link does with each record it receives, with the time it was received.</summary>
internal delegate void RecordHandler(HubLink link, ReadOnlySpan<byte> record, long receivedAt);

/// <summary>The server closed the link, or the link was aborted.</summary>
internal sealed class LinkClosedException(string message) : Exception(message);

/// <summary>
/// One client connection over <see cref="ClientWebSocket"/>: pre-encoded frames out, SignalR records in (JSON: split on
/// the record separator, a raw WebSocket message without one being a record of its own; MessagePack, once the
/// handshake chose it: split on the length prefixes). A link is either pulled
/// (<see cref="ReadRecordAsync"/>) by one loop, or pumped (<see cref="StartPump"/>) into a handler, never both.
/// </summary>
internal sealed class HubLink : IDisposable
{
    private readonly ClientWebSocket _socket;
    private byte[] _buffer = new byte[2048];
    private int _length;
    private int _offset;
    private volatile RecordHandler? _handler;
    private WebSocketMessageType _messageType = WebSocketMessageType.Text;
    private bool _lengthPrefixed;
    private long _messagesReceived;

    private HubLink(ClientWebSocket socket, int id)
    {
        _socket = socket;
        Id = id;
    }

    public int Id { get; }

    /// <summary>This link's own copy of the frame it sends, patched before each send.</summary>
    public byte[] Frame { get; set; } = [];

    /// <summary>The invocation id of the last stamped frame sent.</summary>
    public long Sequence { get; set; }

    /// <summary>When the link finished opening (<see cref="Stopwatch"/> ticks).</summary>
    public long OpenedAt { get; private set; }

    /// <summary>When the link saw the server close it (<see cref="Stopwatch"/> ticks), or 0.</summary>
    public long ClosedAt { get; private set; }

    public Task Pump { get; private set; } = Task.CompletedTask;

    /// <summary>For fan-out scenarios: the channel (group) this link belongs to.</summary>
    public int Channel { get; set; }

    /// <summary>For fan-out scenarios: whether this link sends, rather than receives, its channel's messages.</summary>
    public bool IsSender { get; set; }

    /// <summary>The completion a pumped link is waiting for, set by the scenario before it sends.</summary>
    public TaskCompletionSource? Pending { get; set; }

    public static async Task<HubLink> ConnectAsync(Uri uri, HttpMessageInvoker invoker, int id, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(uri, invoker, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new HubLink(socket, id) { OpenedAt = Stopwatch.GetTimestamp() };
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> frame) =>
        _socket.SendAsync(frame, _messageType, WebSocketMessageFlags.EndOfMessage, CancellationToken.None);

    /// <summary>Sends <see cref="Frame"/> after patching <paramref name="stamp"/> and an invocation id into it.</summary>
    public ValueTask SendStampedAsync(long stamp)
    {
        Frames.Patch(Frame, stamp, ++Sequence);
        return SendAsync(Frame);
    }

    /// <summary>Sends the SignalR handshake for <paramref name="protocol"/> and waits for its answer.</summary>
    public async Task HandshakeAsync(HubProtocol protocol = HubProtocol.Json)
    {
        // A binary protocol's frames go as binary WebSocket messages, the handshake included, as SignalR's clients send them.
        _messageType = protocol == HubProtocol.MessagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
        await SendAsync(Frames.HandshakeFor(protocol));

        // The answer is JSON with the record separator for every protocol; what follows it is in the protocol chosen.
        var answer = await ReadRecordAsync();
        if (!answer.Span.SequenceEqual("{}"u8))
        {
            throw new InvalidOperationException($"handshake refused: {System.Text.Encoding.UTF8.GetString(answer.Span)}");
        }

        _lengthPrefixed = protocol == HubProtocol.MessagePack;
    }

    /// <summary>Invokes a method with a pre-encoded frame and waits for its completion, skipping anything else.</summary>
    public async Task InvokeAsync(byte[] frame)
    {
        await SendAsync(frame);
        while (true)
        {
            var record = await ReadRecordAsync();
            if (Frames.TypeOf(record.Span) == 3)
            {
                if (Frames.HasError(record.Span))
                {
                    throw new InvalidOperationException($"invocation failed: {System.Text.Encoding.UTF8.GetString(record.Span)}");
                }

                return;
            }
        }
    }

    /// <summary>The next record; valid until the next call. Throws <see cref="LinkClosedException"/> once closed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>> ReadRecordAsync()
    {
        while (true)
        {
            if (_offset < _length)
            {
                var rest = _buffer.AsSpan(_offset, _length - _offset);
                if (!_lengthPrefixed)
                {
                    var separator = rest.IndexOf(Frames.RecordSeparator);
                    var size = separator >= 0 ? separator : rest.Length;
                    var record = _buffer.AsMemory(_offset, size);
                    _offset += separator >= 0 ? size + 1 : size;
                    return record;
                }

                if (MessagePackFrames.TryReadLengthPrefix(rest, out var prefix, out var payload) && prefix + payload <= rest.Length)
                {
                    var record = _buffer.AsMemory(_offset + prefix, payload);
                    _offset += prefix + payload;
                    return record;
                }
            }

            // Keep the start of a MessagePack message that continues in the next WebSocket message.
            var kept = _length - _offset;
            if (kept > 0 && _offset > 0)
            {
                Buffer.BlockCopy(_buffer, _offset, _buffer, 0, kept);
            }

            _offset = 0;
            _length = kept;
            while (true)
            {
                if (_length == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                ValueWebSocketReceiveResult result;
                try
                {
                    result = await _socket.ReceiveAsync(_buffer.AsMemory(_length), CancellationToken.None);
                }
                catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
                {
                    MarkClosed();
                    throw new LinkClosedException(ex.Message);
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    MarkClosed();
                    throw new LinkClosedException("closed by the server");
                }

                _length += result.Count;
                if (result.EndOfMessage)
                {
                    Volatile.Write(ref _messagesReceived, _messagesReceived + 1);
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The WebSocket messages received so far (one reader writes it): the server may put several records in one, so
    /// records per message shows how much it batched its sends.
    /// </summary>
    public long MessagesReceived => Volatile.Read(ref _messagesReceived);

    /// <summary>Reads every record into <paramref name="handler"/> until the link closes; the handler can be swapped.</summary>
    public void StartPump(RecordHandler handler)
    {
        _handler = handler;
        Pump = PumpAsync();
    }


    /// <summary>Closes with the WebSocket close handshake, or aborts after <paramref name="timeout"/>.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancellation.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    public void Dispose()
    {
        _socket.Abort();
        _socket.Dispose();
    }

    private void MarkClosed()
    {
        if (ClosedAt == 0)
        {
            ClosedAt = Stopwatch.GetTimestamp();
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                var record = await ReadRecordAsync();
                _handler?.Invoke(this, record.Span, Stopwatch.GetTimestamp());
            }
        }
        catch (LinkClosedException ex)
        {
            // The end of every pump: the scenario aborted the link, or the server closed it. A call still waiting for
            // its completion learns why at once instead of waiting out its timeout.
            Pending?.TrySetException(ex);
        }
    }
}
