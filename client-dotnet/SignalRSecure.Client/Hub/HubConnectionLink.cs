using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>An <see cref="IHubLink"/> over a <see cref="HubConnection"/> of SignalR's client, on the direct WebSocket transport.</summary>
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

    /// <summary>The factory <see cref="SecureHubClient"/> uses outside tests.</summary>
    public static HubLinkFactory Factory(SecureHubClientOptions options, ILoggerFactory loggerFactory) => callbacks =>
    {
        // No automatic reconnect here: SecureHubClient must authenticate a new connection before anything else goes out.
        var builder = new HubConnectionBuilder();
        builder.Services.AddSingleton(loggerFactory);
        var connection = builder.WithDirectWebSocket(options.HubUri, options.ConfigureWebSocket);
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
