using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The per-user limits: at most <see cref="ProtectionOptions.MaxConnectionsPerUser"/> authenticated connections per
/// user, sharing <see cref="SecureHubOptions.UserInvocationsPerSecond"/> between them. Counted on this node, and, when
/// the <see cref="ISharedUserLimits"/> is shared (several nodes on Redis), for every node together.
/// </summary>
/// <remarks>
/// One small entry per user with at least one connection, removed with the user's last connection, so idle users
/// cost nothing and a connection costs one reference. With shared limits, invocations are taken from the shared
/// bucket a lease at a time (the lease's unspent tokens stay with the user's entry on this node), and while the shared
/// bucket cannot be reached each node applies the budget on its own.
/// </remarks>
internal sealed class UserBudgets(
    IOptions<ProtectionOptions> protection,
    IOptions<SecureHubOptions> hub,
    TimeProvider time,
    ISharedUserLimits? shared = null,
    ILogger<UserBudgets>? logger = null)
{
    // A shared bucket that failed is not asked again for this long: the node's own budget applies meanwhile.
    private static readonly TimeSpan SharedRetryInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, UserBudget> _budgets = new(StringComparer.Ordinal);
    private readonly ISharedUserLimits _shared = shared ?? new NodeUserLimits();
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private long _sharedFailedAt = long.MinValue;

    /// <summary>Whether the limits are counted for several nodes together.</summary>
    public bool IsShared => _shared.IsShared;

    /// <summary>Counts one more connection of <paramref name="user"/> on this node; null when the user already has as many as allowed.</summary>
    public UserBudget? TryAcquire(string user)
    {
        var maximum = protection.Value.MaxConnectionsPerUser;
        while (true)
        {
            var budget = _budgets.GetOrAdd(user, static (name, state) => new UserBudget(name, state.Burst, state.Time.GetTimestamp()),
                (Burst: (double)hub.Value.UserInvocationBurst, Time: time));
            lock (budget.SyncRoot)
            {
                if (budget.Retired)
                {
                    // Given back by the user's last connection between the lookup and the lock: take a fresh one.
                    continue;
                }

                if (budget.Connections >= maximum)
                {
                    return null;
                }

                budget.Connections++;
                return budget;
            }
        }
    }

    /// <summary>
    /// Counts one more connection of <paramref name="user"/> on this node and, with shared limits, on every node; null
    /// when the user already has as many as allowed. Throws when the shared store fails (nothing is counted then).
    /// </summary>
    public async ValueTask<UserBudget?> TryAcquireAsync(string user, CancellationToken cancellationToken = default)
    {
        // The node's own count first: it is part of the cluster's, so a refusal here saves a round trip.
        var budget = TryAcquire(user);
        if (budget is null || !_shared.IsShared)
        {
            return budget;
        }

        bool added;
        try
        {
            added = await _shared.TryAddConnectionAsync(user, protection.Value.MaxConnectionsPerUser, cancellationToken);
        }
        catch
        {
            Release(budget);
            throw;
        }

        if (!added)
        {
            Release(budget);
            return null;
        }

        return budget;
    }

    /// <summary>Gives back what <see cref="TryAcquire"/> counted on this node; the entry goes with the user's last connection.</summary>
    public void Release(UserBudget budget)
    {
        lock (budget.SyncRoot)
        {
            if (--budget.Connections > 0)
            {
                return;
            }

            budget.Retired = true;
            _budgets.TryRemove(new KeyValuePair<string, UserBudget>(budget.User, budget));
        }
    }

    /// <summary>Gives back what <see cref="TryAcquireAsync"/> counted; throws when the shared store fails (the node's count is given back anyway).</summary>
    public async ValueTask ReleaseAsync(UserBudget budget, CancellationToken cancellationToken = default)
    {
        Release(budget);
        if (_shared.IsShared)
        {
            await _shared.RemoveConnectionAsync(budget.User, cancellationToken);
        }
    }

    /// <summary>Takes one invocation from the user's bucket on this node.</summary>
    public bool TryTakeInvocation(UserBudget budget)
    {
        var options = hub.Value;
        return budget.TryTakeInvocation(time, options.UserInvocationsPerSecond, options.UserInvocationBurst);
    }

    /// <summary>
    /// Takes one invocation from the user's budget: from the lease this node holds, else from a new lease of the
    /// shared bucket, else (no shared bucket, or none reachable now) from the user's bucket on this node.
    /// </summary>
    public ValueTask<bool> TryTakeInvocationAsync(UserBudget budget)
    {
        if (!_shared.IsShared)
        {
            return ValueTask.FromResult(TryTakeInvocation(budget));
        }

        return budget.TryTakeLeased() ? ValueTask.FromResult(true) : TakeFromSharedAsync(budget);
    }

    private async ValueTask<bool> TakeFromSharedAsync(UserBudget budget)
    {
        int? leased = null;
        var failedAt = Volatile.Read(ref _sharedFailedAt);
        if (failedAt == long.MinValue || time.GetElapsedTime(failedAt) >= SharedRetryInterval)
        {
            try
            {
                leased = await _shared.LeaseInvocationsAsync(budget.User);
            }
            catch (Exception ex)
            {
                Volatile.Write(ref _sharedFailedAt, time.GetTimestamp());
                ProtectionLog.SharedUserBudgetFailed(_logger, ex);
            }
        }

        if (leased is not { } granted)
        {
            return TryTakeInvocation(budget);
        }

        if (granted <= 0)
        {
            return false;
        }

        budget.AddLeased(granted - 1);
        return true;
    }

    /// <summary>The users with at least one connection (for tests and diagnostics).</summary>
    public int Count => _budgets.Count;
}
