using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The default <see cref="IAuthenticationFailureLimiter"/>, counting in this process: locks an IP out of new hub connections and of every <c>Authenticate</c> and <c>Reauthenticate</c> for
/// <see cref="ProtectionOptions.AuthenticationLockout"/> once it has failed
/// <see cref="ProtectionOptions.AuthenticationFailuresPerIp"/> of them within
/// <see cref="ProtectionOptions.AuthenticationFailureWindow"/>.
/// </summary>
/// <remarks>
/// <para>
/// Attempts in flight count against the threshold before they settle: an attempt starts only while the failures so
/// far plus the attempts in flight stay below it, and otherwise waits for one of those to settle. So however many
/// tickets an address sends at once, at most the threshold are looked at before the lockout, and the rest are
/// refused without being redeemed. An honest burst of good tickets (many users behind one NAT) only waits for the
/// redemptions ahead of it, which take microseconds with the in-memory store.
/// </para>
/// <para>
/// Written on <see cref="TimeProvider"/> rather than on a <c>System.Threading.RateLimiting</c> window limiter: those
/// read the system clock directly and have no notion of a lockout, and both must be testable on a fake clock.
/// </para>
/// </remarks>
internal sealed class AuthenticationFailureLimiter : IAuthenticationFailureLimiter, IDisposable
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
        // Stryker disable once Equality: equivalent for >=, when the lockout and the window are equal both branches are the same time; the < it also skips is killed by the LimiterSweep tests
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

    /// <summary>
    /// Starts an authentication attempt from <paramref name="address"/>: false, at once or after waiting for the
    /// attempts ahead of it, when the address is locked out. Every true must be followed by one
    /// <see cref="EndAttempt"/>.
    /// </summary>
    public async ValueTask<bool> TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        var key = ClientAddress.PartitionKey(address);
        while (true)
        {
            var window = Window(key);
            Task settled;
            lock (window)
            {
                if (window.Retired)
                {
                    continue;
                }

                var now = _time.GetUtcNow();
                Refresh(window, now);
                // Stryker disable once Equality: equivalent for >=, after Refresh a lockout is either none (MinValue) or still to end, never exactly now; the < it also skips refuses every attempt and is killed by the limiter tests
                if (window.LockedUntil > now)
                {
                    return false;
                }

                if (window.Count + window.InFlight < _options.AuthenticationFailuresPerIp)
                {
                    window.InFlight++;
                    return true;
                }

                // The attempts in flight could lock the address out: this one waits to see how they end.
                settled = (window.Settled ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await settled.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Ends an attempt <see cref="TryBeginAttemptAsync"/> started; returns true when its failure locks the address out.</summary>
    public bool EndAttempt(IPAddress? address, bool failed)
    {
        var key = ClientAddress.PartitionKey(address);

        // An attempt in flight keeps its window from being retired or swept, so it is still there.
        if (!_windows.TryGetValue(key, out var window))
        {
            return false;
        }

        lock (window)
        {
            window.InFlight--;
            var lockedOut = failed && CountFailure(window, _time.GetUtcNow());
            var settled = window.Settled;
            window.Settled = null;
            settled?.TrySetResult();
            if (window.Count == 0 && window.InFlight == 0 && settled is null && window.LockedUntil == DateTimeOffset.MinValue)
            {
                // A clean success leaves nothing to remember: addresses that only ever authenticate cost no entry.
                window.Retired = true;
                _windows.TryRemove(new KeyValuePair<IPAddress, FailureWindow>(key, window));
            }

            return lockedOut;
        }
    }

    /// <summary>Counts one failure outside an attempt (a malformed Authenticate); returns true when it locks the address out.</summary>
    public bool RecordFailure(IPAddress? address)
    {
        var key = ClientAddress.PartitionKey(address);
        while (true)
        {
            var window = Window(key);
            lock (window)
            {
                if (!window.Retired)
                {
                    return CountFailure(window, _time.GetUtcNow());
                }
            }
        }
    }

    private FailureWindow Window(IPAddress key)
    {
        if (_windows.Count > SweepThreshold)
        {
            Sweep();
        }

        return _windows.GetOrAdd(key, static _ => new FailureWindow());
    }

    private bool CountFailure(FailureWindow window, DateTimeOffset now)
    {
        Refresh(window, now);
        if (window.Count == 0)
        {
            window.Start = now;
        }

        window.Count++;
        if (window.Count < _options.AuthenticationFailuresPerIp ||
            // Stryker disable once Equality: equivalent for >=, after Refresh a lockout is either none (MinValue) or still to end, never exactly now; the < it also skips never locks out and is killed by the lockout tests
            window.LockedUntil > now)
        {
            return false;
        }

        window.LockedUntil = now + _options.AuthenticationLockout;
        return true;
    }

    private void Refresh(FailureWindow window, DateTimeOffset now)
    {
        if (window.LockedUntil != DateTimeOffset.MinValue && window.LockedUntil <= now)
        {
            // A served lockout starts the count afresh; otherwise the failures that caused it, still inside a window
            // longer than the lockout, would hold every attempt back.
            window.LockedUntil = DateTimeOffset.MinValue;
            window.Count = 0;
        }
        else if (now - window.Start >= _options.AuthenticationFailureWindow &&
            // Stryker disable once Equality: equivalent for >=, with no failure counted the branch sets the count to zero, which it already is; the < it also skips never ends a window and is killed by Limiter_FailuresExactlyAWindowApart_AreCountedInSeparateWindows
            window.Count > 0)
        {
            window.Count = 0;
        }
    }

    public void Dispose() => _sweep.Dispose();

    ValueTask<TimeSpan> IAuthenticationFailureLimiter.GetLockoutAsync(IPAddress? address, CancellationToken cancellationToken) =>
        ValueTask.FromResult(IsLockedOut(address, out var retryAfter) ? retryAfter : TimeSpan.Zero);

    // Stryker disable once String: equivalent, this limiter ends an attempt by its address alone; the id names an attempt in a shared store
    async ValueTask<AuthenticationAttempt?> IAuthenticationFailureLimiter.TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken) =>
        await TryBeginAttemptAsync(address, cancellationToken) ? new AuthenticationAttempt(address, string.Empty) : null;

    ValueTask<bool> IAuthenticationFailureLimiter.EndAttemptAsync(AuthenticationAttempt attempt, bool failed, CancellationToken cancellationToken) =>
        ValueTask.FromResult(EndAttempt(attempt.Address, failed));

    ValueTask<bool> IAuthenticationFailureLimiter.RecordFailureAsync(IPAddress? address, CancellationToken cancellationToken) =>
        ValueTask.FromResult(RecordFailure(address));

    private void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var (address, window) in _windows)
        {
            lock (window)
            {
                if (window.InFlight == 0 && window.Settled is null && window.LockedUntil <= now
                    && (window.Count == 0 || now - window.Start >= _options.AuthenticationFailureWindow))
                {
                    window.Retired = true;
                    _windows.TryRemove(new KeyValuePair<IPAddress, FailureWindow>(address, window));
                }
            }
        }
    }

    private sealed class FailureWindow
    {
        public DateTimeOffset Start { get; set; }

        public int Count { get; set; }

        public DateTimeOffset LockedUntil { get; set; } = DateTimeOffset.MinValue;

        public int InFlight { get; set; }

        /// <summary>Completed when an attempt in flight settles; created by the first attempt that waits.</summary>
        public TaskCompletionSource? Settled { get; set; }

        /// <summary>Removed from the table: whoever still holds it looks the address up again.</summary>
        public bool Retired { get; set; }
    }
}
