namespace SignalRSecure.Server.Protection;

/// <summary>
/// A token bucket on <see cref="TimeProvider"/>: <c>burst</c> tokens, refilled at <c>perSecond</c>. Not thread-safe:
/// one connection's invocations run one at a time.
/// </summary>
/// <remarks>
/// <c>System.Threading.RateLimiting.TokenBucketRateLimiter</c> reads the system clock directly, so a fake clock
/// cannot drive it in tests; a bucket per connection also needs none of its queueing or timers.
/// </remarks>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(TimeProvider time, double perSecond, double burst)
    {
        _time = time;
        _perSecond = perSecond;
        _burst = burst;
        _tokens = burst;
        _lastRefill = time.GetTimestamp();
    }

    /// <summary>Takes one token if there is one.</summary>
    public bool TryTake()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_lastRefill, now).TotalSeconds * _perSecond));
        _lastRefill = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens--;
        return true;
    }
}
