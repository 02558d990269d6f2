namespace SignalRSecure.AspNetCore.Groups;

/// <summary>
/// Who is in which group: the one source of truth for membership. Membership checks, group caps and member lists
/// read it; SignalR's own groups only deliver messages and follow it. The default keeps this process's connections
/// and completes synchronously; a shared implementation lets several nodes share it.
/// </summary>
/// <remarks>
/// A shared store can be slow or down: every member may throw when the store fails or times out. A hub method then
/// answers <see cref="SignalRSecure.Contracts.HubErrors.Unavailable"/> (never the store's error text), and a failure
/// while a closed connection is cleaned up is logged and skipped, so a shared implementation should let the entries of
/// connections that are gone expire on their own. A member that throws must not have made half of its change.
/// </remarks>
public interface IGroupRoster
{
    /// <summary>The outcome of <see cref="TryJoinAsync"/>.</summary>
    enum JoinResult
    {
        /// <summary>The connection is now a member.</summary>
        Joined,

        /// <summary>The connection was a member already.</summary>
        AlreadyMember,

        /// <summary>The connection is in as many groups as it may be.</summary>
        TooManyGroups,
    }

    /// <summary>Adds a connection of <paramref name="user"/> to <paramref name="group"/>, unless it is in <paramref name="maximumGroups"/> groups already.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="user">Its authenticated user.</param>
    /// <param name="group">A valid group name (<see cref="GroupNames.IsValid"/>).</param>
    /// <param name="maximumGroups">How many groups one connection may be in.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the connection joined, was a member already, or is in too many groups.</returns>
    ValueTask<JoinResult> TryJoinAsync(string connectionId, string user, string group, int maximumGroups, CancellationToken cancellationToken = default);

    /// <summary>Removes a connection from a group.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when it was not a member.</returns>
    ValueTask<bool> LeaveAsync(string connectionId, string group, CancellationToken cancellationToken = default);

    /// <summary>Whether the connection is a member of the group.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True for a member.</returns>
    ValueTask<bool> IsMemberAsync(string connectionId, string group, CancellationToken cancellationToken = default);

    /// <summary>The groups the connection is a member of.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The groups, in no particular order.</returns>
    ValueTask<IReadOnlyList<string>> GroupsOfAsync(string connectionId, CancellationToken cancellationToken = default);

    /// <summary>The distinct users with at least one connection in the group.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The users, sorted ordinally.</returns>
    ValueTask<IReadOnlyList<string>> MembersAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>Removes a closed connection from every group.</summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The groups its user no longer has any connection in.</returns>
    ValueTask<IReadOnlyList<string>> RemoveConnectionAsync(string connectionId, CancellationToken cancellationToken = default);
}
