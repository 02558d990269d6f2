using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SignalRSecure.AspNetCore.Hosting;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// Every time limit of the tickets and the failure lockout at its exact boundary, and the sweeps that bound the
/// in-memory tables, on <see cref="FakeTimeProvider"/> (started at a random date, so a read of the real clock fails).
/// </summary>
public sealed class ExpiryBoundaryTests : IDisposable
{
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.77");
    private static readonly IPAddress Bystander = IPAddress.Parse("198.51.100.77");
    private static readonly string NoUserAgent = UserAgentHash.Of(null);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2033, 3, 3, 0, 0, 0, TimeSpan.Zero).AddSeconds(Random.Shared.Next(0, 50_000_000)));
    private readonly TicketOptions _ticketOptions = new();
    private readonly ProtectionOptions _protection = new();
    private readonly InMemoryTicketStore _store;
    private readonly TicketService _tickets;
    private readonly AuthenticationFailureLimiter _limiter;
    private readonly GateRedemption _gate;

    public ExpiryBoundaryTests()
    {
        _store = new InMemoryTicketStore(_time, Options.Create(_ticketOptions));
        _tickets = new TicketService(_store, Options.Create(_ticketOptions), _time);
        _limiter = new AuthenticationFailureLimiter(Options.Create(_protection), _time);
        _gate = new GateRedemption(_tickets, _store, _time);
    }

    [Fact]
    public async Task Redeem_ExactlyAtExpiry_FailsAsExpired()
    {
        var issued = await IssueAsync();

        // Without the sweep: the ticket is still in the store when its lifetime is exactly over.
        _store.Dispose();
        _time.Advance(_ticketOptions.Lifetime);
        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);

        Assert.Equal(_time.GetUtcNow(), issued.ExpiresAt);
        Assert.Equal(TicketRejection.Expired, redemption.Rejection);
    }

    [Fact]
    public async Task Redeem_OneTickBeforeExpiry_Succeeds()
    {
        var issued = await IssueAsync();

        _time.Advance(_ticketOptions.Lifetime - TimeSpan.FromTicks(1));
        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);

        Assert.NotNull(redemption.Ticket);
        Assert.Equal("alice", redemption.Ticket!.User);
    }

    [Fact]
    public async Task Issue_StoresTheGrantWithItsLifetime()
    {
        var now = _time.GetUtcNow();

        var issued = await _tickets.IssueAsync(new TicketGrant("alice", ["general"], "127.0.0.1", "https://chat.example", "session", "agent"));
        var stored = (await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", "https://chat.example", UserAgentHash.Of("agent"))).Ticket;

        Assert.Equal(now + _ticketOptions.Lifetime, issued.ExpiresAt);
        Assert.NotNull(stored);
        Assert.Equal((now, now + _ticketOptions.Lifetime), (stored.IssuedAt, stored.ExpiresAt));
        Assert.Equal(("127.0.0.1", "https://chat.example", "session"), (stored.ClientIp, stored.Origin, stored.SessionKey));
        Assert.Equal(UserAgentHash.Of("agent"), stored.UserAgentHash);
        Assert.Equal(SecretToken.Hash(issued.Ticket), stored.Hash);
    }

    [Fact]
    public async Task Sweep_DropsATicketExactlyAtItsExpiry_AndKeepsOneATickYounger()
    {
        var sweepEvery = ExpirySweep.IntervalFor(_ticketOptions.Lifetime);

        // The first sweep runs one interval after the store starts: one ticket expires exactly then, one a tick later.
        _time.Advance(sweepEvery - _ticketOptions.Lifetime);
        await IssueAsync();
        _time.Advance(TimeSpan.FromTicks(1));
        var younger = await IssueAsync();
        _time.Advance(_ticketOptions.Lifetime - TimeSpan.FromTicks(1));

        Assert.Equal(1, _store.Count);
        Assert.NotNull((await _gate.RedeemAsync(younger.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
    }

    [Fact]
    public async Task Sweep_RunsAgainEveryInterval()
    {
        var sweepEvery = ExpirySweep.IntervalFor(_ticketOptions.Lifetime);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                await IssueAsync();
            }

            _time.Advance(sweepEvery + _ticketOptions.Lifetime);

            Assert.Equal(0, _store.Count);
        }
    }

    [Fact]
    public async Task RevokeUser_LeavesOtherUsersTickets()
    {
        await IssueAsync("alice");
        var bob = await IssueAsync("bob");

        await _store.RevokeUserAsync("alice");

        Assert.Equal(1, _store.Count);
        Assert.NotNull((await _gate.RedeemAsync(bob.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
    }

    [Fact]
    public void Limiter_OneFailureUnderTheThreshold_DoesNotLockOut_TheThresholdDoes()
    {
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp - 1; i++)
        {
            Assert.False(_limiter.RecordFailure(Attacker));
        }

        var lockedBefore = _limiter.IsLockedOut(Attacker, out _);
        var locks = _limiter.RecordFailure(Attacker);

        Assert.False(lockedBefore);
        Assert.True(locks);
        Assert.True(_limiter.IsLockedOut(Attacker, out var retryAfter));
        Assert.Equal(_protection.AuthenticationLockout, retryAfter);
    }

    [Fact]
    public void Limiter_FailuresBeyondTheThresholdWhileLockedOut_DoNotExtendTheLockout()
    {
        LockOut(Attacker);
        _time.Advance(TimeSpan.FromMinutes(1));

        var locksAgain = _limiter.RecordFailure(Attacker);

        Assert.False(locksAgain);
        Assert.True(_limiter.IsLockedOut(Attacker, out var retryAfter));
        Assert.Equal(_protection.AuthenticationLockout - TimeSpan.FromMinutes(1), retryAfter);
    }

    [Fact]
    public void Limiter_LockoutEndsExactlyWhenDue_AndTheCountStartsAfresh()
    {
        LockOut(Attacker);

        _time.Advance(_protection.AuthenticationLockout - TimeSpan.FromTicks(1));
        var lockedATickBefore = _limiter.IsLockedOut(Attacker, out var lastTick);
        _time.Advance(TimeSpan.FromTicks(1));
        var lockedWhenDue = _limiter.IsLockedOut(Attacker, out _);
        var relockedByOne = _limiter.RecordFailure(Attacker);

        Assert.True(lockedATickBefore);
        Assert.Equal(TimeSpan.FromTicks(1), lastTick);
        Assert.False(lockedWhenDue);
        Assert.False(relockedByOne);
        Assert.False(_limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void Limiter_FailuresExactlyAWindowApart_AreCountedInSeparateWindows()
    {
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp - 1; i++)
        {
            _limiter.RecordFailure(Attacker);
        }

        _time.Advance(_protection.AuthenticationFailureWindow);
        var locks = _limiter.RecordFailure(Attacker);

        Assert.False(locks);
        Assert.False(_limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void Limiter_FailuresJustInsideTheWindow_LockOut()
    {
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp - 1; i++)
        {
            _limiter.RecordFailure(Attacker);
        }

        _time.Advance(_protection.AuthenticationFailureWindow - TimeSpan.FromTicks(1));

        Assert.True(_limiter.RecordFailure(Attacker));
    }

    [Fact]
    public async Task Limiter_AttemptsInFlight_CountTowardTheThreshold()
    {
        var started = 0;
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp; i++)
        {
            Assert.True(await _limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            started++;
        }

        // One more waits for the ones in flight; when they all fail the address is locked out and it is refused.
        var waiting = _limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask();
        var waitedForThem = !waiting.IsCompleted;
        var lockedBy = Enumerable.Range(0, started).Select(_ => _limiter.EndAttempt(Attacker, failed: true)).ToList();

        Assert.True(waitedForThem);
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([.. Enumerable.Repeat(false, started - 1), true], lockedBy);
    }

    [Fact]
    public async Task Limiter_AttemptsInFlightThatSucceed_LetTheWaitingOneStart()
    {
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp; i++)
        {
            Assert.True(await _limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }

        var waiting = _limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask();
        _limiter.EndAttempt(Attacker, failed: false);

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Limiter_CleanSuccess_LeavesNoEntry()
    {
        Assert.True(await _limiter.TryBeginAttemptAsync(Bystander, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        var lockedOut = _limiter.EndAttempt(Bystander, failed: false);

        Assert.False(lockedOut);
        Assert.Equal(0, _limiter.TrackedAddresses);
    }

    [Fact]
    public async Task Limiter_SuccessAfterAFailure_KeepsTheFailureCounted()
    {
        _limiter.RecordFailure(Attacker);
        Assert.True(await _limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        _limiter.EndAttempt(Attacker, failed: false);
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp - 1; i++)
        {
            _limiter.RecordFailure(Attacker);
        }

        Assert.True(_limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void Limiter_EndAttemptWithoutABegin_ChangesNothing()
    {
        Assert.False(_limiter.EndAttempt(Bystander, failed: true));
        Assert.Equal(0, _limiter.TrackedAddresses);
    }

    [Fact]
    public void LimiterSweep_KeepsAnAddressUntilItsWindowHasPassed()
    {
        _limiter.RecordFailure(Attacker);
        var sweepEvery = ExpirySweep.IntervalFor(_protection.AuthenticationLockout);

        // The sweep runs once per lockout (the longer of the two): a failure a tick before it is still in its window.
        _time.Advance(sweepEvery - _protection.AuthenticationFailureWindow + TimeSpan.FromTicks(1));
        _limiter.RecordFailure(Bystander);
        _time.Advance(_protection.AuthenticationFailureWindow - TimeSpan.FromTicks(1));

        Assert.Equal(1, _limiter.TrackedAddresses);
        Assert.False(_limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void LimiterSweep_KeepsALockedOutAddressUntilTheLockoutEnds()
    {
        var sweepEvery = ExpirySweep.IntervalFor(_protection.AuthenticationLockout);
        _time.Advance(TimeSpan.FromMinutes(1));
        LockOut(Attacker);

        // The first sweep comes while the lockout has a minute to go; the next one after it has ended.
        _time.Advance(sweepEvery - TimeSpan.FromMinutes(1));
        var trackedWhileLocked = _limiter.TrackedAddresses;
        _time.Advance(sweepEvery);

        Assert.Equal(sweepEvery, _protection.AuthenticationLockout);
        Assert.Equal(1, trackedWhileLocked);
        Assert.Equal(0, _limiter.TrackedAddresses);
    }

    [Fact]
    public async Task LimiterSweep_KeepsAnAddressWithAnAttemptInFlight()
    {
        Assert.True(await _limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        _time.Advance(ExpirySweep.IntervalFor(_protection.AuthenticationLockout) * 2);
        var tracked = _limiter.TrackedAddresses;
        var lockedOut = _limiter.EndAttempt(Attacker, failed: true);

        Assert.Equal(1, tracked);
        Assert.False(lockedOut);
    }

    [Fact]
    public void LimiterSweep_RunsOncePerTheLongerOfWindowAndLockout()
    {
        _limiter.RecordFailure(Attacker);

        _time.Advance(_protection.AuthenticationFailureWindow);
        var trackedAfterTheWindow = _limiter.TrackedAddresses;
        _time.Advance(_protection.AuthenticationLockout - _protection.AuthenticationFailureWindow);

        Assert.True(_protection.AuthenticationLockout > _protection.AuthenticationFailureWindow);
        Assert.Equal(1, trackedAfterTheWindow);
        Assert.Equal(0, _limiter.TrackedAddresses);
    }

    [Fact]
    public void Limiter_OverTenThousandAddresses_DropsStaleEntriesWithoutWaitingForTheTimer()
    {
        for (var i = 0; i <= 10_000; i++)
        {
            _limiter.RecordFailure(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
        }

        var trackedBefore = _limiter.TrackedAddresses;

        // Past the window but before the timed sweep: only the next failure's own sweep can drop them.
        _time.Advance(_protection.AuthenticationFailureWindow);
        _limiter.RecordFailure(Attacker);

        Assert.Equal(10_001, trackedBefore);
        Assert.Equal(1, _limiter.TrackedAddresses);
    }

    [Fact]
    public void Limiter_ExactlyTenThousandAddresses_LeavesTheStaleEntriesToTheTimer()
    {
        for (var i = 0; i < 10_000; i++)
        {
            _limiter.RecordFailure(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
        }

        // Past the window but before the timed sweep: at exactly 10,000 a failure adds its entry without a sweep; the
        // next one, over 10,000, sweeps first.
        _time.Advance(_protection.AuthenticationFailureWindow);
        _limiter.RecordFailure(Attacker);
        var trackedAtTheThreshold = _limiter.TrackedAddresses;
        _limiter.RecordFailure(Bystander);

        Assert.Equal(10_001, trackedAtTheThreshold);
        Assert.Equal(2, _limiter.TrackedAddresses);
    }

    [Fact]
    public void LimiterSweep_DropsALockedOutAddressExactlyWhenItsLockoutEnds()
    {
        // The timed sweep runs once per lockout, the longer of the two, so the first one falls on the lockout's end.
        LockOut(Attacker);

        _time.Advance(_protection.AuthenticationLockout - TimeSpan.FromTicks(1));
        var trackedATickBefore = _limiter.TrackedAddresses;
        _time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(ExpirySweep.IntervalFor(_protection.AuthenticationLockout), _protection.AuthenticationLockout);
        Assert.Equal(1, trackedATickBefore);
        Assert.Equal(0, _limiter.TrackedAddresses);
    }

    [Fact]
    public void LimiterSweep_WindowLongerThanTheLockout_RunsOncePerWindow()
    {
        using var limiter = WindowLongerThanLockout(out var options);

        // A failure a minute before the first sweep is still in its window then, and goes at the second one.
        _time.Advance(options.AuthenticationFailureWindow - TimeSpan.FromMinutes(1));
        limiter.RecordFailure(Attacker);
        _time.Advance(TimeSpan.FromMinutes(1));
        _time.Advance(options.AuthenticationFailureWindow - TimeSpan.FromMinutes(1));
        var trackedAMinuteBeforeTheSecondSweep = limiter.TrackedAddresses;
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, trackedAMinuteBeforeTheSecondSweep);
        Assert.Equal(0, limiter.TrackedAddresses);
    }

    [Fact]
    public async Task Limiter_WindowLongerThanTheLockout_AttemptExactlyWhenTheLockoutEnds_StartsAtOnce()
    {
        using var limiter = WindowLongerThanLockout(out var options);
        for (var i = 0; i < options.AuthenticationFailuresPerIp; i++)
        {
            limiter.RecordFailure(Attacker);
        }

        // The failures that caused the lockout are still inside the window: a served lockout must reset them anyway.
        _time.Advance(options.AuthenticationLockout);
        var attempt = limiter.TryBeginAttemptAsync(Attacker, CancellationToken.None);

        // Checked before awaiting: an attempt held back by the old failures would only show as a 10 s timeout.
        Assert.True(attempt.IsCompleted);
        Assert.True(await attempt.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(limiter.EndAttempt(Attacker, failed: true));
        Assert.False(limiter.IsLockedOut(Attacker, out _));
    }

    [Fact]
    public void Limiter_WindowLongerThanTheLockout_FailureExactlyWhenTheLockoutEnds_CountsAfresh()
    {
        using var limiter = WindowLongerThanLockout(out var options);
        for (var i = 0; i < options.AuthenticationFailuresPerIp; i++)
        {
            limiter.RecordFailure(Attacker);
        }

        _time.Advance(options.AuthenticationLockout);
        var relocked = limiter.RecordFailure(Attacker);

        Assert.False(relocked);
        Assert.False(limiter.IsLockedOut(Attacker, out _));
    }

    public void Dispose()
    {
        _store.Dispose();
        _limiter.Dispose();
        _gate.Dispose();
    }

    private void LockOut(IPAddress address)
    {
        for (var i = 0; i < _protection.AuthenticationFailuresPerIp; i++)
        {
            _limiter.RecordFailure(address);
        }

        Assert.True(_limiter.IsLockedOut(address, out _));
    }

    private AuthenticationFailureLimiter WindowLongerThanLockout(out ProtectionOptions options)
    {
        options = new ProtectionOptions
        {
            AuthenticationFailureWindow = TimeSpan.FromMinutes(10),
            AuthenticationLockout = TimeSpan.FromMinutes(1),
        };
        return new AuthenticationFailureLimiter(Options.Create(options), _time);
    }

    private ValueTask<TicketResponse> IssueAsync(string user = "alice") =>
        _tickets.IssueAsync(new TicketGrant(user, ["general"], "127.0.0.1", null, null));
}
