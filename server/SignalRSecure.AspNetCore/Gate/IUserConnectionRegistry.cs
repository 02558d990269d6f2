namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The authenticated connections of each user, so that logout and revocation can close them and a newer ticket's
/// groups reach all of them. The default keeps one process's connections and completes synchronously; a shared
/// implementation (several nodes) can fan <see cref="CloseUserConnectionsAsync"/> and
/// <see cref="UpdateUserGroupsAsync"/> out to other nodes.
/// </summary>
/// <remarks>
/// A shared store can be slow or down: every member may throw when the store fails or times out, and the gate handles
/// it. An <see cref="AddAsync"/> that throws closes the connection with
/// <see cref="SignalRSecure.Contracts.CloseReasons.Unavailable"/> (its <c>Authenticate</c> answers
/// <see cref="SignalRSecure.Contracts.HubErrors.Unavailable"/>); a <see cref="RemoveAsync"/> that throws is logged
/// (<c>RegistryRemoveFailed</c>) and the connection ends anyway, so a shared implementation should let entries of
/// connections that are gone expire on their own; an <see cref="UpdateUserGroupsAsync"/> that throws is logged and
/// the calling connection takes its new groups itself. Never put the store's own error text where a client sees it.
/// </remarks>
public interface IUserConnectionRegistry
{
    /// <summary>Records a connection that is authenticating as <see cref="ISecureConnection.User"/>.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="cancellationToken">Cancelled when the connection closes meanwhile.</param>
    /// <returns>A task that completes once the connection can be found by its user.</returns>
    /// <exception cref="Exception">The store failed; the connection is closed as unavailable.</exception>
    ValueTask AddAsync(ISecureConnection connection, CancellationToken cancellationToken = default);

    /// <summary>Forgets a connection that closed.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>A task that completes once the connection is forgotten.</returns>
    /// <exception cref="Exception">The store failed; the gate logs it and goes on.</exception>
    ValueTask RemoveAsync(ISecureConnection connection, CancellationToken cancellationToken = default);

    /// <summary>Closes every connection of <paramref name="user"/> with <paramref name="reason"/>.</summary>
    /// <param name="user">The user.</param>
    /// <param name="reason">One of <see cref="SignalRSecure.Contracts.CloseReasons"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for the fan-out.</param>
    /// <returns>How many connections were closed.</returns>
    /// <exception cref="Exception">The store failed.</exception>
    ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives every connection of <paramref name="user"/> the groups of the ticket issued at <paramref name="issuedAt"/>
    /// (<see cref="ISecureConnection.UpdateGroupsAsync"/>).
    /// </summary>
    /// <param name="user">The user.</param>
    /// <param name="groups">The groups, or group patterns, of the ticket.</param>
    /// <param name="issuedAt">When the ticket was issued.</param>
    /// <param name="cancellationToken">Cancels waiting for the fan-out.</param>
    /// <returns>How many connections it reached.</returns>
    /// <exception cref="Exception">The store failed; the caller then applies the groups to the connection it holds itself.</exception>
    ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default);
}
