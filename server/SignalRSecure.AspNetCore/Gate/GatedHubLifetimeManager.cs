using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Wraps the hub's lifetime manager so that nothing reaches a connection before it authenticates:
/// <c>Clients.All</c> means all authenticated connections (the only ones the inner manager knows), and sends to, or
/// group additions of, an unauthenticated connection are dropped. It also hands each connection's <see cref="HubConnectionContext"/> to its gate.
/// </summary>
/// <remarks>
/// It wraps whatever manager the app registered (<see cref="Hosting.GatedLifetimeManagerFactory"/>): SignalR's
/// default, or a scale-out one that forwards sends to other nodes, where each node's gated manager filters its own
/// connections. It tracks the connections that have not authenticated yet (few, bounded by the admission caps) rather than the
/// authenticated ones: the inner manager only knows a connection after <see cref="OnConnectedAsync"/> has put it on
/// that list, so a connection id missing from it is either authenticated or unknown to the inner manager too.
/// </remarks>
internal sealed class GatedHubLifetimeManager<THub>(HubLifetimeManager<THub> inner) : HubLifetimeManager<THub>, IGateObserver, IAsyncDisposable, IDisposable
    where THub : Hub
{
    private readonly ConcurrentDictionary<string, ConnectionGate> _unauthenticated = new(StringComparer.Ordinal);

    /// <summary>The lifetime manager the app registered, which this one wraps.</summary>
    public HubLifetimeManager<THub> Inner => inner;

    // The inner manager is not registered in the container (only this one is), so its resources end with this one.
    public ValueTask DisposeAsync()
    {
        switch (inner)
        {
            case IAsyncDisposable asyncDisposable:
                return asyncDisposable.DisposeAsync();
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }

        return ValueTask.CompletedTask;
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        var gate = ConnectionGate.From(connection.Features)
            ?? throw new InvalidOperationException($"{typeof(THub).Name} must be mapped with MapSecureHub.");
        _unauthenticated[connection.ConnectionId] = gate;
        gate.Attach(connection, this);

        // The inner manager hears of the connection only once it authenticates (OnAuthenticatedAsync): a scale-out
        // manager delivers what other nodes send to the connections it knows, behind this node's checks, so it must
        // know none that has not authenticated.
        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        _unauthenticated.TryRemove(connection.ConnectionId, out _);
        if (ConnectionGate.From(connection.Features)?.LeaveLifetimeManager() is not { } joined)
        {
            return;
        }

        try
        {
            await joined;
        }
        catch (Exception)
        {
            // A join that failed may still have left something in the inner manager: its disconnect cleans up either way.
        }

        await inner.OnDisconnectedAsync(connection);
    }

    async Task IGateObserver.OnAuthenticatedAsync(ConnectionGate gate, HubConnectionContext connection)
    {
        await inner.OnConnectedAsync(connection);
        _unauthenticated.TryRemove(gate.ConnectionId, out _);
    }

    // The inner manager knows authenticated connections only, so its "all" is already "all authenticated": no group
    // of them (and no group entry per connection) is needed.
    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendAllAsync(methodName, args, cancellationToken);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        inner.SendAllExceptAsync(methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        IsAuthenticated(connectionId) ? inner.SendConnectionAsync(connectionId, methodName, args, cancellationToken) : Task.CompletedTask;

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendConnectionsAsync([.. connectionIds.Where(IsAuthenticated)], methodName, args, cancellationToken);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendGroupAsync(groupName, methodName, args, cancellationToken);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendGroupsAsync(groupNames, methodName, args, cancellationToken);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        inner.SendGroupExceptAsync(groupName, methodName, args, excludedConnectionIds, cancellationToken);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendUserAsync(userId, methodName, args, cancellationToken);

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        inner.SendUsersAsync(userIds, methodName, args, cancellationToken);

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        IsAuthenticated(connectionId) ? inner.AddToGroupAsync(connectionId, groupName, cancellationToken) : Task.CompletedTask;

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        inner.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);

    public override Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken) =>
        IsAuthenticated(connectionId)
            ? inner.InvokeConnectionAsync<T>(connectionId, methodName, args, cancellationToken)
            : Task.FromException<T>(new HubException("The connection is not authenticated."));

    public override Task SetConnectionResultAsync(string connectionId, Microsoft.AspNetCore.SignalR.Protocol.CompletionMessage result) =>
        inner.SetConnectionResultAsync(connectionId, result);

    public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type) =>
        inner.TryGetReturnType(invocationId, out type);

    private bool IsAuthenticated(string connectionId) => !_unauthenticated.ContainsKey(connectionId);
}
