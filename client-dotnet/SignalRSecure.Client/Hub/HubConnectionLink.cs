using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>An <see cref="IHubLink"/> over a <see cref="HubConnection"/> of SignalR's client, on its WebSockets transport without negotiate.</summary>
internal sealed class HubConnectionLink : IHubLink
{
    private readonly HubConnection _connection;
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HubConnectionLink(HubConnection connection, IChatClient callbacks)
    {
        _connection = connection;
        _connection.On<ChatMessage>(nameof(IChatClient.ReceiveMessage), callbacks.ReceiveMessage);
        _connection.On<GroupPresence>(nameof(IChatClient.UserJoined), callbacks.UserJoined);
        _connection.On<GroupPresence>(nameof(IChatClient.UserLeft), callbacks.UserLeft);
        _connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    public Task<Exception?> Closed => _closed.Task;

    /// <summary>
    /// Straight to the WebSocket, skipping negotiate: the hub offers nothing else, a negotiation would spend a second turn
    /// of the server's new-connection pace and its per-IP negotiate budget on every (re)connection, and reconnect storms
    /// from one address are exactly when those run short. The ticket goes in the first invocation, never in the address
    /// or a header.
    /// </summary>
    internal static void ConfigureConnection(HttpConnectionOptions connection, SecureHubClientOptions options)
    {
        connection.Transports = HttpTransportType.WebSockets;
        connection.SkipNegotiation = true;
        connection.WebSocketConfiguration = webSocket =>
        {
            // SignalR's transport sets a User-Agent of its own; tickets are bound to the one CookieTicketSource sends.
            // Set before the caller's configuration, which may replace it (then the ticket requests must send the same).
            webSocket.SetRequestHeader(ClientUserAgent.HeaderName, ClientUserAgent.Value);
            options.ConfigureWebSocket?.Invoke(webSocket);
        };
    }

    /// <summary>The factory <see cref="SecureHubClient"/> uses outside tests.</summary>
    public static HubLinkFactory Factory(SecureHubClientOptions options, ILoggerFactory loggerFactory) => callbacks =>
    {
        // No automatic reconnect here: SecureHubClient must authenticate a new connection before anything else goes out.
        var builder = new HubConnectionBuilder();
        builder.Services.AddSingleton(loggerFactory);
        var connection = builder.WithUrl(options.HubUri, HttpTransportType.WebSockets, connection => ConfigureConnection(connection, options));
        _ = options.Protocol == SecureHubProtocol.MessagePack ? connection.AddMessagePackProtocol() : connection.AddJsonProtocol();
        return new HubConnectionLink(builder.Build(), callbacks);
    };

    public Task StartAsync(CancellationToken cancellationToken) => _connection.StartAsync(cancellationToken);

    public async Task<TResult> InvokeAsync<TResult>(string methodName, object?[] arguments, CancellationToken cancellationToken)
    {
        EnsureActive();
        return (TResult)(await _connection.InvokeCoreAsync(methodName, typeof(TResult), arguments, cancellationToken).ConfigureAwait(false))!;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    // A connection that closed a moment ago may still be the client's current one; refusing here, before anything is
    // sent, lets the call wait for the next authenticated connection. Should it close between this check and the send,
    // the call fails as interrupted instead.
    private void EnsureActive()
    {
        if (_connection.State != HubConnectionState.Connected)
        {
            throw new HubLinkInactiveException();
        }
    }
}
