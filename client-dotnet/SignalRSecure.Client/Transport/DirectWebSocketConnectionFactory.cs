using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using SignalRSecure.Client;

namespace SignalRSecure.Client
{
    /// <summary>
    /// An <see cref="IConnectionFactory"/> that opens a <see cref="ClientWebSocket"/> straight to a hub's
    /// <c>ws://</c> or <c>wss://</c> address, skipping negotiate: the SignalRSecure hub needs nothing but the WebSocket.
    /// </summary>
    /// <remarks>
    /// This file is the whole transport, so that it can be replaced by the official
    /// <c>Microsoft.AspNetCore.SignalR.Client</c> package (<c>WithUrl</c> with <c>SkipNegotiation</c> and the WebSockets
    /// transport) without touching anything else. The address never carries credentials: the ticket travels inside the
    /// connection, in the first invocation.
    /// </remarks>
    /// <param name="configureWebSocket">
    /// Sets request headers (such as <c>Origin</c>), a proxy or client certificates. The <c>User-Agent</c> is
    /// <see cref="ClientUserAgent.Value"/> unless this replaces it.
    /// </param>
    /// <param name="transferFormat">How messages go on the wire: text for the JSON protocol, binary for MessagePack.</param>
    public sealed class DirectWebSocketConnectionFactory(
        Action<ClientWebSocketOptions>? configureWebSocket = null,
        TransferFormat transferFormat = TransferFormat.Text) : IConnectionFactory
    {
        /// <summary>
        /// Opens the WebSocket. <paramref name="endpoint"/> must be a <see cref="UriEndPoint"/>; <c>http(s)://</c> is
        /// read as <c>ws(s)://</c>.
        /// </summary>
        /// <param name="endpoint">The hub's address.</param>
        /// <param name="cancellationToken">Cancels the opening handshake.</param>
        /// <returns>The open connection.</returns>
        /// <exception cref="WebSocketException">The server refused the upgrade or could not be reached.</exception>
        public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(endpoint);
            var uri = endpoint is UriEndPoint { Uri: var address }
                ? ToWebSocketUri(address)
                : throw new NotSupportedException($"{nameof(DirectWebSocketConnectionFactory)} connects to a {nameof(UriEndPoint)} only.");

            var socket = new ClientWebSocket();
            try
            {
                // The same value as CookieTicketSource's requests, since tickets are bound to it; set first, so that
                // configureWebSocket may replace it (then the ticket requests must send the replacement too).
                socket.Options.SetRequestHeader(ClientUserAgent.HeaderName, ClientUserAgent.Value);
                configureWebSocket?.Invoke(socket.Options);
                await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new WebSocketConnection(socket, transferFormat == TransferFormat.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text);
        }

        /// <summary>The WebSocket address of <paramref name="address"/>: <c>http</c> becomes <c>ws</c>, <c>https</c> becomes <c>wss</c>.</summary>
        /// <param name="address">An absolute <c>http</c>, <c>https</c>, <c>ws</c> or <c>wss</c> address without user information.</param>
        /// <returns>The <c>ws</c> or <c>wss</c> address.</returns>
        /// <exception cref="ArgumentException">Another scheme, a relative address, or user information in the address.</exception>
        public static Uri ToWebSocketUri(Uri address)
        {
            ArgumentNullException.ThrowIfNull(address);
            if (!address.IsAbsoluteUri)
            {
                throw new ArgumentException("The hub address must be absolute.", nameof(address));
            }

            // Credentials in an address end up in proxy logs and browser histories; this client never sends them there.
            if (address.UserInfo.Length != 0)
            {
                throw new ArgumentException("The hub address must not carry user information.", nameof(address));
            }

            var scheme = address.Scheme switch
            {
                "http" or "ws" => "ws",
                "https" or "wss" => "wss",
                _ => throw new ArgumentException("The hub address must be http, https, ws or wss.", nameof(address)),
            };
            return new UriBuilder(address) { Scheme = scheme }.Uri;
        }

        /// <summary>
        /// A <see cref="ConnectionContext"/> over an open WebSocket: one loop copies received messages into the input
        /// pipe, another sends what the hub connection writes to the output pipe.
        /// </summary>
        private sealed class WebSocketConnection : ConnectionContext
        {
            // How long a graceful close may wait for the server's close frame before the socket is aborted.
            private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);
            private const int MinimumReceiveBufferSize = 4096;

            private readonly ClientWebSocket _socket;
            private readonly WebSocketMessageType _messageType;
            private readonly Pipe _received = new();
            private readonly Pipe _toSend = new();
            private readonly CancellationTokenSource _aborted = new();
            private readonly Task _receiving;
            private readonly Task _sending;
            private int _disposed;

            public WebSocketConnection(ClientWebSocket socket, WebSocketMessageType messageType)
            {
                _socket = socket;
                _messageType = messageType;
                ConnectionId = Guid.NewGuid().ToString("N");
                Transport = new DuplexPipe(_received.Reader, _toSend.Writer);
                ConnectionClosed = _aborted.Token;
                _receiving = ReceiveAsync();
                _sending = SendAsync();
            }

            public override string ConnectionId { get; set; }

            public override IFeatureCollection Features { get; } = new FeatureCollection();

            public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

            public override IDuplexPipe Transport { get; set; }

            public override void Abort(ConnectionAbortedException abortReason)
            {
                _socket.Abort();
                _aborted.Cancel();
            }

            public override async ValueTask DisposeAsync()
            {
                if (Interlocked.Exchange(ref _disposed, 1) != 0)
                {
                    return;
                }

                // Completing the output lets the send loop flush what is left and start the close handshake; a server
                // that neither reads nor answers the close gets the socket aborted under it.
                await _toSend.Writer.CompleteAsync().ConfigureAwait(false);
                var loops = Task.WhenAll(_sending, _receiving);
                try
                {
                    await loops.WaitAsync(CloseTimeout).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    _socket.Abort();
                    await _aborted.CancelAsync().ConfigureAwait(false);
                    await loops.ConfigureAwait(false);
                }

                _socket.Dispose();
                _aborted.Dispose();
            }

            private async Task ReceiveAsync()
            {
                var writer = _received.Writer;
                try
                {
                    while (true)
                    {
                        var memory = writer.GetMemory(MinimumReceiveBufferSize);
                        var result = await _socket.ReceiveAsync(memory, _aborted.Token).ConfigureAwait(false);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            break;
                        }

                        writer.Advance(result.Count);
                        if (result.EndOfMessage && (await writer.FlushAsync().ConfigureAwait(false)).IsCompleted)
                        {
                            break;
                        }
                    }

                    await writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_aborted.IsCancellationRequested)
                {
                    await writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The hub connection reports this as the reason it closed: a transport drop, with no close reason.
                    await writer.CompleteAsync(ex).ConfigureAwait(false);
                }
                finally
                {
                    // Nothing can be sent on a socket the server has closed; wake the send loop so that it ends too.
                    _toSend.Reader.CancelPendingRead();
                }
            }

            private async Task SendAsync()
            {
                var reader = _toSend.Reader;
                Exception? error = null;
                try
                {
                    while (true)
                    {
                        var result = await reader.ReadAsync().ConfigureAwait(false);
                        var buffer = result.Buffer;
                        try
                        {
                            if (result.IsCanceled)
                            {
                                break;
                            }

                            if (!buffer.IsEmpty)
                            {
                                await SendBufferAsync(buffer).ConfigureAwait(false);
                            }

                            if (result.IsCompleted)
                            {
                                break;
                            }
                        }
                        finally
                        {
                            reader.AdvanceTo(buffer.End);
                        }
                    }

                    if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        using var timeout = new CancellationTokenSource(CloseTimeout);
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
                {
                    error = ex;
                }
                finally
                {
                    await reader.CompleteAsync(error).ConfigureAwait(false);
                }
            }

            private async ValueTask SendBufferAsync(ReadOnlySequence<byte> buffer)
            {
                if (buffer.IsSingleSegment)
                {
                    await _socket.SendAsync(buffer.First, _messageType, endOfMessage: true, _aborted.Token).ConfigureAwait(false);
                    return;
                }

                // One WebSocket message per write: every segment but the last is a fragment of it.
                var pending = ReadOnlyMemory<byte>.Empty;
                var first = true;
                foreach (var segment in buffer)
                {
                    if (!first)
                    {
                        await _socket.SendAsync(pending, _messageType, endOfMessage: false, _aborted.Token).ConfigureAwait(false);
                    }

                    pending = segment;
                    first = false;
                }

                await _socket.SendAsync(pending, _messageType, endOfMessage: true, _aborted.Token).ConfigureAwait(false);
            }

            private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
        }
    }
}

namespace Microsoft.AspNetCore.SignalR.Client
{
    /// <summary>Points a <see cref="IHubConnectionBuilder"/> at a hub over <see cref="DirectWebSocketConnectionFactory"/>.</summary>
    public static class DirectWebSocketHubConnectionBuilderExtensions
    {
        /// <summary>
        /// Connects to <paramref name="hubUrl"/> with a bare WebSocket, without negotiate. The counterpart of the official
        /// client's <c>WithUrl(url, o =&gt; { o.SkipNegotiation = true; o.Transports = HttpTransportType.WebSockets; })</c>.
        /// </summary>
        /// <param name="builder">The hub connection builder.</param>
        /// <param name="hubUrl">The hub's address (<c>http(s)</c> or <c>ws(s)</c>), without credentials.</param>
        /// <param name="configureWebSocket">Sets request headers (such as <c>Origin</c>), a proxy or client certificates.</param>
        /// <returns>The builder.</returns>
        public static IHubConnectionBuilder WithDirectWebSocket(
            this IHubConnectionBuilder builder, Uri hubUrl, Action<ClientWebSocketOptions>? configureWebSocket = null)
        {
            ArgumentNullException.ThrowIfNull(builder);
            var address = DirectWebSocketConnectionFactory.ToWebSocketUri(hubUrl);
            // Binary WebSocket messages for a binary protocol (MessagePack): resolved when the connection is built,
            // after the protocol was added.
            builder.Services.AddSingleton<IConnectionFactory>(services =>
                new DirectWebSocketConnectionFactory(configureWebSocket, services.GetRequiredService<IHubProtocol>().TransferFormat));
            builder.Services.AddSingleton<EndPoint>(new UriEndPoint(address));
            return builder;
        }
    }
}
