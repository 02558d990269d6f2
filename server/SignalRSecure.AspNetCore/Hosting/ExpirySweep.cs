namespace SignalRSecure.AspNetCore.Hosting;

/// <summary>
/// The timer on which an in-memory store drops what has expired, so that entries nobody asks for again (tickets never
/// redeemed, sessions never used) go when they expire rather than when the next entry is added.
/// </summary>
internal static class ExpirySweep
{
    /// <summary>The shortest interval between sweeps: a store of short-lived entries still sweeps at most once a second.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);

    /// <summary>The longest interval between sweeps: long-lived entries are dropped at most 10 minutes after they expire.</summary>
    public static readonly TimeSpan MaximumInterval = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Once per <paramref name="lifetime"/>, between <see cref="MinimumInterval"/> and <see cref="MaximumInterval"/>:
    /// an expired entry lives at most one interval longer than its lifetime, and an idle process wakes rarely.
    /// </summary>
    public static TimeSpan IntervalFor(TimeSpan lifetime) =>
        lifetime < MinimumInterval ? MinimumInterval : lifetime > MaximumInterval ? MaximumInterval : lifetime;

    /// <summary>Runs <paramref name="sweep"/> every <see cref="IntervalFor"/> <paramref name="lifetime"/> until the timer is disposed.</summary>
    public static ITimer Start(TimeProvider time, TimeSpan lifetime, Action sweep)
    {
        var interval = IntervalFor(lifetime);
        return time.CreateTimer(static state => ((Action)state!)(), sweep, interval, interval);
    }
}
