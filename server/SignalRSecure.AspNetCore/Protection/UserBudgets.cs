using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The per-user limits of this node: at most <see cref="ProtectionOptions.MaxConnectionsPerUser"/> authenticated
/// connections per user, sharing <see cref="SecureHubOptions.UserInvocationsPerSecond"/> between them.
/// </summary>
/// <remarks>
/// One small entry per user with at least one connection, removed with the user's last connection, so idle users
/// cost nothing and a connection costs one reference. Like the per-IP caps, the counts are per node.
/// </remarks>
internal sealed class UserBudgets(IOptions<ProtectionOptions> protection, IOptions<SecureHubOptions> hub, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, UserBudget> _budgets = new(StringComparer.Ordinal);

    /// <summary>Counts one more connection of <paramref name="user"/>; null when the user already has as many as allowed.</summary>
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

    /// <summary>Gives back what <see cref="TryAcquire"/> counted; the entry goes with the user's last connection.</summary>
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

    /// <summary>Takes one invocation from the user's shared bucket.</summary>
    public bool TryTakeInvocation(UserBudget budget)
    {
        var options = hub.Value;
        return budget.TryTakeInvocation(time, options.UserInvocationsPerSecond, options.UserInvocationBurst);
    }

    /// <summary>The users with at least one connection (for tests and diagnostics).</summary>
    public int Count => _budgets.Count;
}
