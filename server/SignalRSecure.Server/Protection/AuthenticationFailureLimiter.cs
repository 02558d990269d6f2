using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.Server.Hosting;

namespace SignalRSecure.Server.Protection;

/// <summary>
/// Locks an IP out of new hub connections for <see cref="ProtectionOptions.AuthenticationLockout"/> once it has
/// failed <see cref="ProtectionOptions.AuthenticationFailuresPerIp"/> <c>Authenticate</c> calls within
/// <see cref="ProtectionOptions.AuthenticationFailureWindow"/>.
/// </summary>
/// <remarks>
/// Written on <see cref="TimeProvider"/> rather than on a <c>System.Threading.RateLimiting</c> window limiter: those
/// read the system clock directly and have no notion of a lockout, and both must be testable on a fake clock.
/// </remarks>
internal sealed class AuthenticationFailureLimiter : IDisposable
{
    // Above this many tracked addresses, each new failure first drops the entries that no longer matter; below it the
    // timed sweep (once per window or lockout, whichever is longer) drops them.
    private const int SweepThreshold = 10_000;

    private readonly ProtectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<IPAddress, FailureWindow> _windows = new();
    private readonly ITimer _sweep;

    public AuthenticationFailureLimiter(IOptions<ProtectionOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        var longest = _options.AuthenticationLockout > _options.AuthenticationFailureWindow
            ? _options.AuthenticationLockout
            : _options.AuthenticationFailureWindow;
        _sweep = ExpirySweep.Start(time, longest, Sweep);
    }

    /// <summary>The addresses tracked: those with recent failures or a lockout not yet swept.</summary>
    public int TrackedAddresses => _windows.Count;

    /// <summary>Whether <paramref name="address"/> is locked out, and for how much longer.</summary>
    public bool IsLockedOut(IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!_windows.TryGetValue(ClientAddress.PartitionKey(address), out var window))
        {
            return false;
        }

        lock (window)
        {
            retryAfter = window.LockedUntil - _time.GetUtcNow();
            return retryAfter > TimeSpan.Zero;
        }
    }

    /// <summary>Counts one failed <c>Authenticate</c> call; returns true when it locks the address out.</summary>
    public bool RecordFailure(IPAddress? address)
    {
        if (_windows.Count > SweepThreshold)
        {
            Sweep();
        }

        var now = _time.GetUtcNow();
        var window = _windows.GetOrAdd(ClientAddress.PartitionKey(address), _ => new FailureWindow(now));
        lock (window)
        {
            if (now - window.Start >= _options.AuthenticationFailureWindow)
            {
                window.Start = now;
                window.Count = 0;
            }

            window.Count++;
            if (window.Count < _options.AuthenticationFailuresPerIp || window.LockedUntil > now)
            {
                return false;
            }

            window.LockedUntil = now + _options.AuthenticationLockout;
            return true;
        }
    }

    public void Dispose() => _sweep.Dispose();

    private void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var (address, window) in _windows)
        {
            lock (window)
            {
                if (window.LockedUntil <= now && now - window.Start >= _options.AuthenticationFailureWindow)
                {
                    _windows.TryRemove(address, out _);
                }
            }
        }
    }

    private sealed class FailureWindow(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; set; } = start;

        public int Count { get; set; }

        public DateTimeOffset LockedUntil { get; set; } = DateTimeOffset.MinValue;
    }
}
