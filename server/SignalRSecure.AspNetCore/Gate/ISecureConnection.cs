namespace SignalRSecure.Server.Gate;

/// <summary>An authenticated hub connection, as the <see cref="IUserConnectionRegistry"/> knows it.</summary>
public interface ISecureConnection
{
    /// <summary>The SignalR connection id.</summary>
    string ConnectionId { get; }

    /// <summary>The authenticated user.</summary>
    string User { get; }

    /// <summary>The groups, or group patterns, the user may join on this connection now.</summary>
    IReadOnlyList<string> Groups { get; }

    /// <summary>Sends the SignalR close message with <paramref name="reason"/> (reconnect disallowed) and closes the connection.</summary>
    /// <param name="reason">One of <c>SignalRSecure.Contracts.CloseReasons</c>.</param>
    void Close(string reason);

    /// <summary>
    /// Gives the connection the groups of a newer ticket of its user; when they differ from its own, the
    /// <see cref="IGroupRightsObserver"/>s end the memberships they no longer allow before this completes.
    /// </summary>
    /// <param name="groups">The groups, or group patterns, of the ticket.</param>
    /// <param name="issuedAt">When the ticket was issued: groups older than the connection's own are ignored.</param>
    /// <param name="cancellationToken">Cancels waiting, not the change.</param>
    /// <returns>A task that completes once the connection has the groups, or has closed.</returns>
    ValueTask UpdateGroupsAsync(IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default);
}

/// <summary>
/// The authenticated connections of each user, so that logout and revocation can close them and a newer ticket's
/// groups reach all of them. The default keeps one process's connections; a shared implementation can fan
/// <see cref="CloseUserConnectionsAsync"/> and <see cref="UpdateUserGroupsAsync"/> out to other nodes.
/// </summary>
public interface IUserConnectionRegistry
{
    /// <summary>Records an authenticated connection.</summary>
    void Add(ISecureConnection connection);

    /// <summary>Forgets a connection that closed.</summary>
    void Remove(ISecureConnection connection);

    /// <summary>Closes every connection of <paramref name="user"/> with <paramref name="reason"/>; returns how many.</summary>
    ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives every connection of <paramref name="user"/> the groups of the ticket issued at <paramref name="issuedAt"/>
    /// (<see cref="ISecureConnection.UpdateGroupsAsync"/>); returns how many connections it reached. It may fail (a
    /// shared store that is down); the caller then applies the groups to the connections it holds itself.
    /// </summary>
    ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default);
}
