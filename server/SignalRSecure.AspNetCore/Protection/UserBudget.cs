namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// What one user's authenticated connections on this node share: how many there are and one invocation bucket.
/// Created by <see cref="UserBudgets"/> for the user's first connection and dropped with the last one; each
/// connection holds a reference to it.
/// </summary>
internal sealed class UserBudget(string user, double burst, long now)
{
    private readonly Lock _lock = new();
    private TokenBucket _invocations = new(burst, now);

    public string User { get; } = user;

    /// <summary>The user's connections holding this budget; guarded by <see cref="UserBudgets"/>.</summary>
    internal int Connections { get; set; }

    /// <summary>True once the last connection gave it back: a new connection of the user gets a fresh budget.</summary>
    internal bool Retired { get; set; }

    internal Lock SyncRoot => _lock;

    // Invocations taken from the shared bucket (several nodes) and not spent yet; guarded by the lock.
    private int _leased;

    /// <summary>Takes one invocation from the lease of the shared bucket this node holds; false when it is used up.</summary>
    public bool TryTakeLeased()
    {
        lock (_lock)
        {
            if (_leased <= 0)
            {
                return false;
            }

            _leased--;
            return true;
        }
    }

    /// <summary>Keeps <paramref name="count"/> more invocations taken from the shared bucket.</summary>
    public void AddLeased(int count)
    {
        lock (_lock)
        {
            _leased += count;
        }
    }

    /// <summary>Takes one token from the user's invocation bucket.</summary>
    public bool TryTakeInvocation(TimeProvider time, double perSecond, double burst)
    {
        lock (_lock)
        {
            return _invocations.TryTake(time, perSecond, burst);
        }
    }
}
