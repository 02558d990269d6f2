using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Hosting;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>The in-memory stores drop expired entries on their own timer, with no further additions to trigger it.</summary>
public sealed class ExpirySweepTests
{
    private const int Entries = 1_000;
    private readonly ManualTimeProvider _time = new();

    [Theory]
    [InlineData(0.001, 1)]
    [InlineData(30, 30)]
    [InlineData(600, 600)]
    [InlineData(8 * 3600, 600)]
    public void IntervalFor_Lifetime_IsTheLifetimeBetweenOneSecondAndTenMinutes(double lifetimeSeconds, double expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), ExpirySweep.IntervalFor(TimeSpan.FromSeconds(lifetimeSeconds)));

    [Fact]
    public async Task TicketStore_TicketsNeverRedeemed_AreSweptOnceExpiredWithoutAnotherAdd()
    {
        var options = new TicketOptions();
        using var store = new InMemoryTicketStore(_time, Options.Create(options));
        var tickets = new TicketService(store, Options.Create(options), _time);
        for (var i = 0; i < Entries; i++)
        {
            await tickets.IssueAsync(new TicketGrant("alice", ["general"], "127.0.0.1", null, null));
        }

        _time.Advance(options.Lifetime - TimeSpan.FromMilliseconds(1));
        var beforeExpiry = store.Count;
        _time.Advance(ExpirySweep.IntervalFor(options.Lifetime) + TimeSpan.FromMilliseconds(1));

        Assert.Equal(Entries, beforeExpiry);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task TicketStore_SweepKeepsTicketsNotYetExpired()
    {
        var options = new TicketOptions();
        using var store = new InMemoryTicketStore(_time, Options.Create(options));
        var tickets = new TicketService(store, Options.Create(options), _time);
        await tickets.IssueAsync(new TicketGrant("alice", ["general"], "127.0.0.1", null, null));
        _time.Advance(options.Lifetime / 2);
        var young = await tickets.IssueAsync(new TicketGrant("bob", ["general"], "127.0.0.1", null, null));

        _time.Advance(options.Lifetime / 2);

        Assert.Equal(1, store.Count);
        Assert.NotNull(await store.TryRedeemAsync(SecretToken.Hash(young.Ticket)));
    }

    [Fact]
    public async Task TicketStore_Disposed_StopsSweeping()
    {
        var options = new TicketOptions();
        var store = new InMemoryTicketStore(_time, Options.Create(options));
        await new TicketService(store, Options.Create(options), _time).IssueAsync(new TicketGrant("alice", ["general"], "127.0.0.1", null, null));

        store.Dispose();
        _time.Advance(options.Lifetime * 3);

        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task SessionStore_SessionsNeverUsed_AreSweptOnceExpiredWithoutAnotherAdd()
    {
        var options = new LoginOptions { SessionLifetime = TimeSpan.FromMinutes(30) };
        using var store = new InMemorySessionStore(_time, Options.Create(options));
        for (var i = 0; i < Entries; i++)
        {
            await store.AddAsync(new LoginSession(SecretToken.Hash(SecretToken.Create()), "alice", ["general"], _time.GetUtcNow() + options.SessionLifetime));
        }

        _time.Advance(options.SessionLifetime - TimeSpan.FromMilliseconds(1));
        var beforeExpiry = store.Count;
        _time.Advance(ExpirySweep.IntervalFor(options.SessionLifetime) + TimeSpan.FromMilliseconds(1));

        Assert.Equal(Entries, beforeExpiry);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task SessionStore_DefaultEightHourSessions_AreGoneWithinTenMinutesOfExpiry()
    {
        var options = new LoginOptions();
        using var store = new InMemorySessionStore(_time, Options.Create(options));
        await store.AddAsync(new LoginSession("key", "alice", ["general"], _time.GetUtcNow() + options.SessionLifetime));

        _time.Advance(options.SessionLifetime + ExpirySweep.MaximumInterval);

        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void FailureLimiter_AddressesThatStoppedFailing_AreSweptAfterWindowAndLockout()
    {
        var options = new ProtectionOptions();
        using var limiter = new AuthenticationFailureLimiter(Options.Create(options), _time);
        for (var i = 0; i < Entries; i++)
        {
            limiter.RecordFailure(new IPAddress([10, 0, (byte)(i / 256), (byte)(i % 256)]));
        }

        var locked = new IPAddress([10, 1, 0, 1]);
        for (var i = 0; i < options.AuthenticationFailuresPerIp; i++)
        {
            limiter.RecordFailure(locked);
        }

        _time.Advance(options.AuthenticationLockout - TimeSpan.FromMilliseconds(1));
        var lockedBeforeTheEnd = limiter.IsLockedOut(locked, out _);
        _time.Advance(ExpirySweep.IntervalFor(options.AuthenticationLockout) + TimeSpan.FromMilliseconds(1));

        Assert.True(lockedBeforeTheEnd);
        Assert.Equal(0, limiter.TrackedAddresses);
    }
}
