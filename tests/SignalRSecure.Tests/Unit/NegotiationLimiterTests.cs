using System.Net;
using System.Reflection;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

public sealed class NegotiationLimiterTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Bystander = IPAddress.Parse("198.51.100.9");
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void TryTake_BurstUsedUp_RefusesWithTheTimeUntilTheNextNegotiation()
    {
        var limiter = Limiter(perMinute: 60, burst: 3);

        var burst = Enumerable.Range(0, 3).Count(attempt => limiter.TryTake(Attacker, out _, out _));
        var refused = !limiter.TryTake(Attacker, out var retryAfter, out _);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        var refusedJustBefore = !limiter.TryTake(Attacker, out var retryAfterJustBefore, out _);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var grantedOnTime = limiter.TryTake(Attacker, out _, out _);

        Assert.Equal(3, burst);
        Assert.True(refused);
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.True(refusedJustBefore);
        Assert.Equal(TimeSpan.FromMilliseconds(1), retryAfterJustBefore);
        Assert.True(grantedOnTime);
    }

    [Fact]
    public void TryTake_SustainedOverAMinute_GrantsTheBurstPlusTheRate()
    {
        var limiter = Limiter(perMinute: 600, burst: 200);

        var granted = 0;
        for (var tick = 0; tick < 600; tick++)
        {
            granted += Enumerable.Range(0, 50).Count(attempt => limiter.TryTake(Attacker, out _, out _));
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        // 200 at once, then 10 a second for the 59.9 s between the first and the last attempt.
        Assert.Equal(200 + 599, granted);
    }

    [Fact]
    public void TryTake_OneAddressLimited_OthersUnaffected_IPv6CountsPerSlash64()
    {
        var limiter = Limiter(perMinute: 60, burst: 1);
        limiter.TryTake(Attacker, out _, out _);
        limiter.TryTake(IPAddress.Parse("2001:db8:1:2::1"), out _, out _);

        Assert.False(limiter.TryTake(Attacker, out _, out _));
        Assert.True(limiter.TryTake(Bystander, out _, out _));
        Assert.False(limiter.TryTake(IPAddress.Parse("2001:db8:1:2:ffff::9"), out _, out _));
        Assert.True(limiter.TryTake(IPAddress.Parse("2001:db8:1:3::1"), out _, out _));
        Assert.False(limiter.TryTake(IPAddress.Parse("::ffff:203.0.113.7"), out _, out _));
    }

    [Fact]
    public void TryTake_RefusedWithoutPause_AsksToLogOnceAMinute()
    {
        var limiter = Limiter(perMinute: 1, burst: 1);
        limiter.TryTake(Attacker, out _, out _);

        var logged = Enumerable.Range(0, 100).Count(attempt => !limiter.TryTake(Attacker, out _, out var shouldLog) && shouldLog);
        _time.Advance(TimeSpan.FromSeconds(59));
        var loggedWithinTheMinute = !limiter.TryTake(Attacker, out _, out var shouldLogWithin) && shouldLogWithin;
        _time.Advance(TimeSpan.FromSeconds(2));
        var grantedAfterTheMinute = limiter.TryTake(Attacker, out _, out _);
        var loggedAfterTheMinute = !limiter.TryTake(Attacker, out _, out var shouldLogAfter) && shouldLogAfter;

        Assert.Equal(1, logged);
        Assert.False(loggedWithinTheMinute);
        Assert.True(grantedAfterTheMinute);
        Assert.True(loggedAfterTheMinute);
    }

    [Fact]
    public void Return_AfterAnotherLimitRefused_GivesTheNegotiationBack()
    {
        var limiter = Limiter(perMinute: 1, burst: 1);
        Assert.True(limiter.TryTake(Attacker, out _, out _));

        limiter.Return(Attacker);
        limiter.Return(Attacker);

        Assert.True(limiter.TryTake(Attacker, out _, out _));
        Assert.False(limiter.TryTake(Attacker, out _, out _));
    }

    [Fact]
    public void TryTake_ManyAddresses_SweepDropsOnlyTheRefilledOnes()
    {
        // Each address uses its one negotiation, so its entry matters until it refills (1 s). A sweep runs once more
        // new addresses than the threshold (10,000) or than the last sweep left have come since the last sweep.
        var limiter = Limiter(perMinute: 60, burst: 1);
        TakeOneEach(limiter, first: 0, last: 9_999);

        limiter.TryTake(AddressNumber(10_000), out _, out _);
        var trackedBeforeRefill = limiter.TrackedAddresses;
        var stillLimited = !limiter.TryTake(AddressNumber(0), out _, out _);
        TakeOneEach(limiter, first: 10_001, last: 20_000);

        var trackedAfterMore = limiter.TrackedAddresses;
        _time.Advance(TimeSpan.FromSeconds(1));
        limiter.TryTake(AddressNumber(20_001), out _, out _);

        Assert.Equal(10_001, trackedBeforeRefill);
        Assert.True(stillLimited);
        Assert.Equal(20_001, trackedAfterMore);
        Assert.Equal(1, limiter.TrackedAddresses);
    }

    [Fact]
    public void TryTake_RefusedAgainExactlyAMinuteAfterTheLoggedRefusal_AsksToLogAgain()
    {
        // Arrange: one a second, the burst of 1 used up; a refusal half a second later is logged.
        var limiter = Limiter(perMinute: 60, burst: 1);
        limiter.TryTake(Attacker, out _, out _);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var loggedFirst = !limiter.TryTake(Attacker, out _, out var shouldLogFirst) && shouldLogFirst;

        // Act: every refilled negotiation taken for a minute, then refused just before and at a minute after the log.
        var granted = 0;
        for (var second = 0; second < 60; second++)
        {
            _time.Advance(second == 0 ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(1));
            granted += limiter.TryTake(Attacker, out _, out _) ? 1 : 0;
        }

        _time.Advance(TimeSpan.FromMilliseconds(500) - TimeSpan.FromTicks(1));
        var loggedJustBefore = !limiter.TryTake(Attacker, out _, out var shouldLogJustBefore) && shouldLogJustBefore;
        _time.Advance(TimeSpan.FromTicks(1));
        var loggedAtTheMinute = !limiter.TryTake(Attacker, out _, out var shouldLogAtTheMinute) && shouldLogAtTheMinute;

        // Assert
        Assert.True(loggedFirst);
        Assert.Equal(60, granted);
        Assert.False(loggedJustBefore);
        Assert.True(loggedAtTheMinute);
    }

    [Fact]
    public void Return_UnknownAddress_ChangesNothing()
    {
        var limiter = Limiter(perMinute: 60, burst: 1);

        limiter.Return(Attacker);

        Assert.Equal(0, limiter.TrackedAddresses);
        Assert.True(limiter.TryTake(Attacker, out _, out _));
        Assert.False(limiter.TryTake(Attacker, out _, out _));
    }

    [Fact]
    public void TryTake_SweepThatLeftMoreThanTheThreshold_WaitsForAsManyNewAddresses()
    {
        // Arrange: 20,001 addresses, none refilled, when the second sweep runs: it removes nothing, and the next sweep
        // waits for 20,001 new addresses rather than 10,000, so that a full table is not walked every 10,000 requests.
        var limiter = Limiter(perMinute: 60, burst: 1);
        TakeOneEach(limiter, first: 0, last: 20_001);

        var trackedAfterTheSweep = limiter.TrackedAddresses;

        // Act: all refilled; 10,001 new addresses are fewer than the sweep now waits for.
        _time.Advance(TimeSpan.FromSeconds(1));
        TakeOneEach(limiter, first: 20_002, last: 30_002);

        // Assert
        Assert.Equal(20_002, trackedAfterTheSweep);
        Assert.Equal(30_003, limiter.TrackedAddresses);
    }

    [Fact]
    public void TryTake_SweepDueWhileAnotherThreadSweeps_SkipsItAndTheNextNewAddressSweeps()
    {
        // Arrange: 10,000 addresses, all refilled; the sweep's lock held as by a sweep running on this thread.
        var limiter = Limiter(perMinute: 60, burst: 1);
        TakeOneEach(limiter, first: 0, last: 9_999);

        _time.Advance(TimeSpan.FromSeconds(1));
        var sweepLock = (Lock)typeof(NegotiationLimiter).GetField("_sweepLock", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(limiter)!;

        // Act: the 10,001st new address, on another thread, is due to sweep but finds the sweep taken.
        var granted = false;
        Exception? failure = null;
        sweepLock.Enter();
        try
        {
            var other = new Thread(() =>
            {
                try
                {
                    granted = limiter.TryTake(AddressNumber(10_000), out _, out _);
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
            });
            other.Start();
            Assert.True(other.Join(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            sweepLock.Exit();
        }

        var trackedWhileSkipped = limiter.TrackedAddresses;
        limiter.TryTake(AddressNumber(10_001), out _, out _);

        // Assert: granted without a sweep; the next new address did it, keeping only the two not refilled.
        Assert.Null(failure);
        Assert.True(granted);
        Assert.Equal(10_001, trackedWhileSkipped);
        Assert.Equal(2, limiter.TrackedAddresses);
    }

    [Fact]
    public void TryTake_SweepOnAnotherThreadBefore_DoesNotKeepTheNextSweepFromRunning()
    {
        // Arrange: the first sweep (at the 10,001st new address, nothing refilled) runs on a thread of its own.
        var limiter = Limiter(perMinute: 60, burst: 1);
        var first = new Thread(() =>
        {
            TakeOneEach(limiter, first: 0, last: 10_000);
        });
        first.Start();
        Assert.True(first.Join(TimeSpan.FromSeconds(10)));
        var trackedAfterTheFirst = limiter.TrackedAddresses;

        // Act: all refilled; 10,001 more new addresses on this thread are due for the next sweep.
        _time.Advance(TimeSpan.FromSeconds(1));
        TakeOneEach(limiter, first: 10_001, last: 20_001);

        // Assert: the second sweep dropped the 10,001 refilled entries of the first thread.
        Assert.Equal(10_001, trackedAfterTheFirst);
        Assert.Equal(10_001, limiter.TrackedAddresses);
    }

    [Fact]
    public void Validate_NonPositiveNegotiationLimits_NameTheKeys()
    {
        var result = new ProtectionOptionsValidator().Validate(null, new ProtectionOptions { NegotiationsPerIpPerMinute = 0, NegotiationBurstPerIp = -1 });

        Assert.True(result.Failed);
        Assert.Contains("SignalRSecure:Protection:NegotiationsPerIpPerMinute must be greater than zero.", result.Failures);
        Assert.Contains("SignalRSecure:Protection:NegotiationBurstPerIp must be greater than zero.", result.Failures);
    }

    /// <summary>Addresses number <paramref name="first"/> to <paramref name="last"/> each take one negotiation.</summary>
    private static void TakeOneEach(NegotiationLimiter limiter, int first, int last)
    {
        for (var i = first; i <= last; i++)
        {
            limiter.TryTake(AddressNumber(i), out _, out _);
        }
    }

    private static IPAddress AddressNumber(int i) => new([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);

    private NegotiationLimiter Limiter(int perMinute, int burst) =>
        new(Options.Create(new ProtectionOptions { NegotiationsPerIpPerMinute = perMinute, NegotiationBurstPerIp = burst }), _time);
}
