namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// A token bucket on <see cref="TimeProvider"/>: up to <c>burst</c> tokens, refilled at <c>perSecond</c>. A mutable
/// struct kept inside its owner (one per connection), which passes the rate and holds the lock; not thread-safe.
/// </summary>
/// <remarks>
/// <c>System.Threading.RateLimiting.TokenBucketRateLimiter</c> reads the system clock directly, so a fake clock
/// cannot drive it in tests; a bucket per connection also needs none of its queueing or timers, and as two fields
/// of the connection's state it costs no object of its own.
/// </remarks>
internal struct TokenBucket(double burst, long now)
{
    private double _tokens = burst;
    private long _lastRefill = now;

    /// <summary>Takes <paramref name="count"/> tokens if there are that many; takes none otherwise.</summary>
    public bool TryTake(TimeProvider time, double perSecond, double burst, int count = 1)
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (time.GetElapsedTime(_lastRefill, now).TotalSeconds * perSecond));
        _lastRefill = now;
        if (_tokens < count)
        {
            return false;
        }

        _tokens -= count;
        return true;
    }

    /// <summary>Gives back a token taken for something that then did not happen.</summary>
    public void Return(double burst) => _tokens = Math.Min(burst, _tokens + 1);

    /// <summary>How long until the bucket holds <paramref name="tokens"/> tokens (zero when it already does).</summary>
    public readonly TimeSpan TimeUntil(double tokens, TimeProvider time, double perSecond)
    {
        var now = _tokens + (time.GetElapsedTime(_lastRefill).TotalSeconds * perSecond);
        // Stryker disable once Equality: equivalent for >, at now == tokens the other branch is FromSeconds(0), zero too; the < it also skips is killed by the TimeUntil tests
        return now >= tokens ? TimeSpan.Zero : TimeSpan.FromSeconds((tokens - now) / perSecond);
    }
}
