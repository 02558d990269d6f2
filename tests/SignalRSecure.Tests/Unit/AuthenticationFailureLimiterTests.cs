using System.Collections;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The in-process failure limiter at the instant a lockout ends off a sweep's tick, and in the races where the entry of
/// an address is dropped (by a clean success or by the sweep) while a new attempt is about to use it: that attempt's
/// failure must still be counted, or an address could fail without ever being locked out.
/// </summary>
public sealed class AuthenticationFailureLimiterTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void IsLockedOut_ExactlyWhenTheLockoutEndsBetweenSweeps_IsFalseWithNoTimeLeft()
    {
        // Arrange: locked out a minute after start, so the lockout ends a minute after the first sweep (every 5 minutes),
        // which keeps the entry: only the comparison with the clock can end the lockout.
        using var limiter = Limiter(new ProtectionOptions());
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < ProtectionOptions.DefaultAuthenticationFailuresPerIp; i++)
        {
            limiter.RecordFailure(Attacker);
        }

        // Act
        _time.Advance(ProtectionOptions.DefaultAuthenticationLockout - TimeSpan.FromTicks(1));
        var lockedATickBefore = limiter.IsLockedOut(Attacker, out var aTickLeft);
        _time.Advance(TimeSpan.FromTicks(1));
        var lockedWhenDue = limiter.IsLockedOut(Attacker, out var leftWhenDue);

        // Assert
        Assert.Equal(1, limiter.TrackedAddresses);
        Assert.True(lockedATickBefore);
        Assert.Equal(TimeSpan.FromTicks(1), aTickLeft);
        Assert.False(lockedWhenDue);
        Assert.Equal(TimeSpan.Zero, leftWhenDue);
    }

    [Fact]
    public async Task TryBeginAttemptAsync_EntryDroppedByACleanSuccessWhileItWaitsForTheLock_CountsItsFailure()
    {
        // Arrange: one failure locks out; an attempt in flight holds the address's entry.
        using var limiter = Limiter(new ProtectionOptions { AuthenticationFailuresPerIp = 1 });
        Assert.True(await limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        var entry = EntryOf(limiter);

        // Act: a second attempt has found the entry and waits for its lock while the first one succeeds, which drops it.
        Task<bool> second;
        lock (entry)
        {
            second = LockRace.RunUntilBlocked(() => limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().GetAwaiter().GetResult());
            Assert.False(limiter.EndAttempt(Attacker, failed: false));
        }

        var started = await second.WaitAsync(TimeSpan.FromSeconds(10));
        var lockedOut = limiter.EndAttempt(Attacker, failed: true);

        // Assert: the second attempt started on an entry still in the table, so its failure locks the address out.
        Assert.True(started);
        Assert.True(lockedOut);
        Assert.True(limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public async Task TryBeginAttemptAsync_EntryDroppedByTheSweepWhileItWaitsForTheLock_CountsItsFailure()
    {
        // Arrange: two failures lock out; one failure, whose window has passed by the first sweep (at 5 minutes).
        using var limiter = Limiter(new ProtectionOptions { AuthenticationFailuresPerIp = 2 });
        limiter.RecordFailure(Attacker);
        _time.Advance(TimeSpan.FromMinutes(4));
        var entry = EntryOf(limiter);

        // Act: an attempt has found the entry and waits for its lock while the sweep drops it.
        Task<bool> attempt;
        lock (entry)
        {
            attempt = LockRace.RunUntilBlocked(() => limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().GetAwaiter().GetResult());
            _time.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(0, limiter.TrackedAddresses);
        }

        var started = await attempt.WaitAsync(TimeSpan.FromSeconds(10));
        var lockedByTheAttempt = limiter.EndAttempt(Attacker, failed: true);
        var lockedByTheNext = limiter.RecordFailure(Attacker);

        // Assert: the attempt's failure was counted, so the next one is the second and locks the address out.
        Assert.True(started);
        Assert.False(lockedByTheAttempt);
        Assert.True(lockedByTheNext);
        Assert.True(limiter.IsLockedOut(Attacker, out _));
    }

    // The one entry in the limiter's table: the object its methods lock.
    private static object EntryOf(AuthenticationFailureLimiter limiter)
    {
        var table = (IDictionary)typeof(AuthenticationFailureLimiter).GetField("_windows", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(limiter)!;
        return Assert.Single(table.Values.Cast<object>());
    }

    private AuthenticationFailureLimiter Limiter(ProtectionOptions options) => new(Options.Create(options), _time);
}
