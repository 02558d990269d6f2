using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

public sealed class ProtectionLimiterTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Bystander = IPAddress.Parse("198.51.100.9");
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void RecordFailure_TenthFailureWithinAMinute_LocksTheAddressOutForFiveMinutes()
    {
        var limiter = new AuthenticationFailureLimiter(Options.Create(new ProtectionOptions()), _time);

        var lockedBy = Enumerable.Range(0, 10).Select(_ => limiter.RecordFailure(Attacker)).ToList();

        Assert.Equal([.. Enumerable.Repeat(false, 9), true], lockedBy);
        Assert.True(limiter.IsLockedOut(Attacker, out var retryAfter));
        Assert.Equal(TimeSpan.FromMinutes(5), retryAfter);
        Assert.False(limiter.IsLockedOut(Bystander, out _));
    }

    [Fact]
    public void IsLockedOut_AfterTheLockout_IsFalse()
    {
        var limiter = new AuthenticationFailureLimiter(Options.Create(new ProtectionOptions()), _time);
        for (var i = 0; i < 10; i++)
        {
            limiter.RecordFailure(Attacker);
        }

        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.IsLockedOut(Attacker, out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void RecordFailure_SpreadOverWindows_NeverLocksOut()
    {
        var limiter = new AuthenticationFailureLimiter(Options.Create(new ProtectionOptions()), _time);

        for (var i = 0; i < 30; i++)
        {
            Assert.False(limiter.RecordFailure(Attacker));
            if (i % 9 == 8)
            {
                _time.Advance(TimeSpan.FromMinutes(1));
            }
        }

        Assert.False(limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void RecordFailure_IPv6_CountsPerSlash64()
    {
        var limiter = new AuthenticationFailureLimiter(Options.Create(new ProtectionOptions { AuthenticationFailuresPerIp = 2 }), _time);

        limiter.RecordFailure(IPAddress.Parse("2001:db8:1:2::1"));
        limiter.RecordFailure(IPAddress.Parse("2001:db8:1:2:ffff::9"));

        Assert.True(limiter.IsLockedOut(IPAddress.Parse("2001:db8:1:2::abcd"), out _));
        Assert.False(limiter.IsLockedOut(IPAddress.Parse("2001:db8:1:3::1"), out _));
    }

    [Fact]
    public void TokenBucket_BurstThenSustainedRate()
    {
        var bucket = new TokenBucket(burst: 60, _time.GetTimestamp());
        bool TryTake() => bucket.TryTake(_time, perSecond: 30, burst: 60);

        var burst = Enumerable.Range(0, 61).Count(_ => TryTake());
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var afterATenth = Enumerable.Range(0, 10).Count(_ => TryTake());
        _time.Advance(TimeSpan.FromHours(1));
        var afterAnHour = Enumerable.Range(0, 100).Count(_ => TryTake());

        Assert.Equal(60, burst);
        Assert.Equal(3, afterATenth);
        Assert.Equal(60, afterAnHour);
    }

    [Fact]
    public void TryAdmit_OverThePerIpUnauthenticatedCap_IsRefusedUntilOneAuthenticates()
    {
        using var admission = new ConnectionAdmission(Options.Create(new ProtectionOptions { MaxUnauthenticatedConnectionsPerIp = 2 }));
        var first = admission.TryAdmit(Attacker);
        var second = admission.TryAdmit(Attacker);

        var third = admission.TryAdmit(Attacker);
        var otherAddress = admission.TryAdmit(Bystander);
        first!.MarkAuthenticated();
        var afterAuthentication = admission.TryAdmit(Attacker);

        Assert.NotNull(second);
        Assert.Null(third);
        Assert.NotNull(otherAddress);
        Assert.NotNull(afterAuthentication);
    }

    [Fact]
    public void TryAdmit_OverThePerIpConnectionCap_IsRefusedUntilOneCloses()
    {
        using var admission = new ConnectionAdmission(Options.Create(new ProtectionOptions { MaxConnectionsPerIp = 2 }));
        var first = admission.TryAdmit(Attacker)!;
        first.MarkAuthenticated();
        var second = admission.TryAdmit(Attacker)!;
        second.MarkAuthenticated();

        var third = admission.TryAdmit(Attacker);
        first.Dispose();
        var afterClose = admission.TryAdmit(Attacker);

        Assert.Null(third);
        Assert.NotNull(afterClose);
    }

    [Fact]
    public void TryAdmit_OverTheGlobalUnauthenticatedCap_IsRefusedForEveryAddress()
    {
        using var admission = new ConnectionAdmission(Options.Create(new ProtectionOptions { MaxUnauthenticatedConnections = 2 }));
        admission.TryAdmit(IPAddress.Parse("10.0.0.1"));
        admission.TryAdmit(IPAddress.Parse("10.0.0.2"));

        Assert.Null(admission.TryAdmit(IPAddress.Parse("10.0.0.3")));
    }

    [Fact]
    public void TryAdmit_RefusedByTheUnauthenticatedCap_GivesItsConnectionPermitBack()
    {
        using var admission = new ConnectionAdmission(Options.Create(new ProtectionOptions { MaxConnectionsPerIp = 2, MaxUnauthenticatedConnectionsPerIp = 1 }));
        var first = admission.TryAdmit(Attacker)!;
        Assert.Null(admission.TryAdmit(Attacker));
        first.MarkAuthenticated();

        Assert.NotNull(admission.TryAdmit(Attacker));
    }

    [Fact]
    public async Task NewConnectionPace_BurstPassesAtOnce_ThenConnectionsWaitForTheRateInArrivalOrder()
    {
        using var pace = Pace(perSecond: 10, burst: 2, queueLimit: 5);

        var first = pace.WaitForTurnAsync(CancellationToken.None);
        var firstAtOnce = first.IsCompletedSuccessfully;
        var second = pace.WaitForTurnAsync(CancellationToken.None);
        var secondAtOnce = second.IsCompletedSuccessfully;
        var third = pace.WaitForTurnAsync(CancellationToken.None).AsTask();
        var fourth = pace.WaitForTurnAsync(CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await third.WaitAsync(TimeSpan.FromSeconds(10));
        var fourthWaitedLonger = !fourth.IsCompleted;
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.True(firstAtOnce && await first);
        Assert.True(secondAtOnce && await second);
        Assert.True(await third);
        Assert.True(fourthWaitedLonger);
        Assert.True(await fourth.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task NewConnectionPace_DefaultRate_LetsWaitersInAFewEveryTwoMilliseconds()
    {
        // Arrange: the default rate, the burst used up, a queue of 10.
        using var pace = Pace(perSecond: ProtectionOptions.DefaultNewConnectionsPerSecond, burst: 2, queueLimit: 20);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiting = Enumerable.Range(0, 10).Select(_ => pace.WaitForTurnAsync(CancellationToken.None).AsTask()).ToList();

        // Act
        _time.Advance(TimeSpan.FromMilliseconds(2));
        var inAfterTwo = waiting.Count(w => w.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(8));
        var inAfterTen = waiting.Count(w => w.IsCompleted);

        // Assert: a few at a time, in arrival order, never the ten of 10 ms in one lump.
        Assert.InRange(inAfterTwo, 1, 2);
        Assert.All(waiting.Take(inAfterTwo), w => Assert.True(w.IsCompletedSuccessfully && w.Result));
        Assert.InRange(inAfterTen, 8, 10);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.All(await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10)), Assert.True);
    }

    [Fact]
    public async Task NewConnectionPace_QueueFull_RefusesAtOnce()
    {
        using var pace = Pace(perSecond: 10, burst: 1, queueLimit: 1);

        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiting = pace.WaitForTurnAsync(CancellationToken.None).AsTask();
        var refused = pace.WaitForTurnAsync(CancellationToken.None);
        var refusedAtOnce = refused.IsCompletedSuccessfully;

        Assert.True(refusedAtOnce);
        Assert.False(await refused);
        Assert.False(waiting.IsCompleted);
    }

    [Fact]
    public async Task NewConnectionPace_WaiterThatGivesUp_TakesNoTurn()
    {
        using var pace = Pace(perSecond: 10, burst: 1, queueLimit: 2);
        using var gaveUp = new CancellationTokenSource();
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var abandoned = pace.WaitForTurnAsync(gaveUp.Token).AsTask();
        var next = pace.WaitForTurnAsync(CancellationToken.None).AsTask();

        await gaveUp.CancelAsync();
        _time.Advance(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private NewConnectionPace Pace(int perSecond, int burst, int queueLimit) =>
        new(Options.Create(new ProtectionOptions { NewConnectionsPerSecond = perSecond, NewConnectionBurst = burst, NewConnectionQueueLimit = queueLimit }), _time);
}
