namespace SignalRSecure.AspNetCore.Groups;

/// <summary>
/// Hears when a shared <see cref="IGroupRoster"/> removes a connection that could not remove itself: one node of
/// several stopped (a crash, <c>kill -9</c>) while its connections were in groups, and another node swept them once
/// the stopped node's heartbeat had expired; or a connection closed while the shared store was unreachable, and its own
/// node removed it once the store answered again. The app announces the departure as it does when a connection closes (the
/// chat sends <c>UserLeft</c> to each group). Register implementations as singletons; the in-memory roster never calls them.
/// </summary>
public interface IGroupDepartureObserver
{
    /// <summary>Called once for each connection removed this way.</summary>
    /// <param name="connectionId">The connection, which is gone.</param>
    /// <param name="user">Its user.</param>
    /// <param name="groupsLeft">The groups the user has no connection left in.</param>
    /// <param name="cancellationToken">Cancelled when this node stops.</param>
    /// <returns>A task that completes once the departure is announced.</returns>
    ValueTask OnConnectionRemovedAsync(string connectionId, string user, IReadOnlyList<string> groupsLeft, CancellationToken cancellationToken);
}
