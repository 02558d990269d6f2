namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The per-user limits counted for every node together: <see cref="ProtectionOptions.MaxConnectionsPerUser"/>
/// connections and the invocation budget of <see cref="Gate.SecureHubOptions.UserInvocationsPerSecond"/>, so that a
/// user does not get N times them from N nodes. <see cref="UserBudgets"/> applies both on its node first and asks this
/// for the rest of the cluster. The default (<see cref="NodeUserLimits"/>) shares nothing: each node's counts are the limits.
/// </summary>
/// <remarks>
/// A shared store can be slow or down: <see cref="TryAddConnectionAsync"/> and <see cref="RemoveConnectionAsync"/>
/// may throw (the Authenticate then fails closed as unavailable; a failed removal is logged and must be made good by
/// the store itself), and <see cref="LeaseInvocationsAsync"/> answers null when it cannot answer at once, so that
/// established connections keep their node's own budget while the store is away.
/// </remarks>
internal interface ISharedUserLimits
{
    /// <summary>Whether the limits are shared at all; false for the default, which the node's own counts stand for.</summary>
    bool IsShared { get; }

    /// <summary>Counts one more connection of <paramref name="user"/> on any node; false when the user has <paramref name="maximum"/> already.</summary>
    ValueTask<bool> TryAddConnectionAsync(string user, int maximum, CancellationToken cancellationToken = default);

    /// <summary>Gives back one connection counted by <see cref="TryAddConnectionAsync"/>.</summary>
    ValueTask RemoveConnectionAsync(string user, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes a lease of invocations from <paramref name="user"/>'s shared bucket, at least one if there is one: how
    /// many were taken (0 when the bucket is empty), or null when the shared bucket cannot be reached now.
    /// </summary>
    ValueTask<int?> LeaseInvocationsAsync(string user, CancellationToken cancellationToken = default);
}
