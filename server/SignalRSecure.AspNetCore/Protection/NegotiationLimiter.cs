using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// A token bucket per IP (per /64 for IPv6) for SignalR negotiations: <see cref="ProtectionOptions.NegotiationBurstPerIp"/>
/// at once, then <see cref="ProtectionOptions.NegotiationsPerIpPerMinute"/>.
/// </summary>
/// <remarks>
/// Every negotiation makes SignalR create a connection, pipes included, and keep it for its disconnect timeout
/// (15 s) whether or not the client ever connects: unlimited, a flood of negotiations from one address is a flood of
/// memory. Written on <see cref="TimeProvider"/> for the same reasons as <see cref="NewConnectionPace"/>. An address
/// whose bucket has filled up again is the same as an unknown one, so its entry is dropped by the sweep; the entries
/// left are the addresses granted a negotiation within one refill time (burst / rate), which the global pace bounds.
/// </remarks>
internal sealed class NegotiationLimiter
{
    // An address refused without pause is logged once in this long; the metric counts every refusal.
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    // After this many new addresses (or as many as the last sweep left, if more), a new address first drops the
    // entries whose bucket is full again: one pass over the entries per as many additions, so O(1) per request.
    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<IPAddress, Allowance> _allowances = new();
    private readonly Lock _sweepLock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private int _sweepAfter = SweepThreshold;
    private int _addedSinceSweep;

    public NegotiationLimiter(IOptions<ProtectionOptions> options, TimeProvider time)
    {
        _time = time;
        _perSecond = options.Value.NegotiationsPerIpPerMinute / 60.0;
        _burst = options.Value.NegotiationBurstPerIp;
    }

    /// <summary>The addresses with state, for tests and diagnostics.</summary>
    internal int TrackedAddresses => _allowances.Count;

    /// <summary>
    /// Takes one negotiation from <paramref name="address"/>'s allowance. When there is none, returns false with the
    /// time until the next one, and <paramref name="shouldLog"/> true when no refusal of the address was logged
    /// within the last minute, so that a flood is one log record a minute rather than one a request.
    /// </summary>
    public bool TryTake(IPAddress? address, out TimeSpan retryAfter, out bool shouldLog)
    {
        var key = ClientAddress.PartitionKey(address);
        if (!_allowances.TryGetValue(key, out var allowance))
        {
            // Counted here rather than read from the dictionary, whose Count takes every one of its locks.
            if (Interlocked.Increment(ref _addedSinceSweep) > Volatile.Read(ref _sweepAfter))
            {
                Sweep();
            }

            allowance = _allowances.GetOrAdd(key, static (_, self) => new Allowance(self._burst, self._time.GetTimestamp()), this);
        }
        lock (allowance)
        {
            if (allowance.Bucket.TryTake(_time, _perSecond, _burst))
            {
                retryAfter = TimeSpan.Zero;
                // Stryker disable once Boolean: equivalent, shouldLog is read only when TryTake refuses
                shouldLog = false;
                return true;
            }

            retryAfter = allowance.Bucket.TimeUntil(1, _time, _perSecond);
            var now = _time.GetTimestamp();
            shouldLog = allowance.LoggedAt is not { } loggedAt || _time.GetElapsedTime(loggedAt, now) >= LogInterval;
            if (shouldLog)
            {
                allowance.LoggedAt = now;
            }

            return false;
        }
    }

    /// <summary>Gives back a negotiation taken by <see cref="TryTake"/> that was then refused by another limit.</summary>
    public void Return(IPAddress? address)
    {
        if (_allowances.TryGetValue(ClientAddress.PartitionKey(address), out var allowance))
        {
            lock (allowance)
            {
                allowance.Bucket.Return(_burst);
            }
        }
    }

    private void Sweep()
    {
        // One sweeper is enough; the others go on with a dictionary that is only a little over the threshold.
        if (!_sweepLock.TryEnter())
        {
            return;
        }

        try
        {
            foreach (var (address, allowance) in _allowances)
            {
                lock (allowance)
                {
                    // A request holding this entry from before its removal takes from an orphan: that address gets at
                    // most one fresh bucket more than it should, once.
                    if (allowance.Bucket.TimeUntil(_burst, _time, _perSecond) == TimeSpan.Zero)
                    {
                        _allowances.TryRemove(address, out _);
                    }
                }
            }

            Volatile.Write(ref _sweepAfter, Math.Max(SweepThreshold, _allowances.Count));
            Volatile.Write(ref _addedSinceSweep, 0);
        }
        finally
        {
            _sweepLock.Exit();
        }
    }

    private sealed class Allowance(double burst, long now)
    {
        public TokenBucket Bucket = new(burst, now);

        public long? LoggedAt;
    }
}
