using System.Net;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The redemption of a ticket as one attempt of the address's failure limit: every attempt that began ends, a failed
/// check counts as a failure, a store that fails counts for nothing, and only an accepted ticket is handed out.
/// </summary>
public sealed class TicketRedeemerTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");
    private static readonly StoredTicket Ticket = new(
        "hash", "alice", ["general"], DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1), "203.0.113.7", null, null);

    private readonly RecordingLimiter _failures = new();
    private readonly FakeStore _store = new();

    [Fact]
    public async Task RedeemAsync_AcceptedTicket_ReturnsItAndEndsTheAttemptAsNoFailure()
    {
        _store.Tickets["hash"] = Ticket;

        var redemption = await RedeemAsync("hash", check: _ => null);

        Assert.Same(Ticket, redemption.Ticket);
        Assert.Null(redemption.Rejection);
        Assert.False(redemption.AddressLockedOut);
        Assert.False(redemption.LockedOut);
        Assert.Null(redemption.LockoutFailure);
        Assert.Equal([false], _failures.Ended);
        Assert.Equal([Client], _failures.Begun);
    }

    [Fact]
    public async Task RedeemAsync_TicketFailingItsCheck_IsNotHandedOutAndCountsAsAFailure()
    {
        // Arrange: the failure is the one that locks the address out.
        _store.Tickets["hash"] = Ticket;
        _failures.LockOutOnFailure = true;

        // Act
        var redemption = await RedeemAsync("hash", check: _ => TicketRejection.WrongIp);

        // Assert
        Assert.Null(redemption.Ticket);
        Assert.Equal(TicketRejection.WrongIp, redemption.Rejection);
        Assert.True(redemption.LockedOut);
        Assert.False(redemption.AddressLockedOut);
        Assert.Equal([true], _failures.Ended);
    }

    [Fact]
    public async Task RedeemAsync_UnknownTicket_IsUnknownWithoutACheckAndCountsAsAFailure()
    {
        var checks = 0;

        var redemption = await RedeemAsync("hash", check: _ => { checks++; return null; });

        Assert.Null(redemption.Ticket);
        Assert.Equal(TicketRejection.Unknown, redemption.Rejection);
        Assert.Equal(0, checks);
        Assert.Equal(["hash"], _store.Redeemed);
        Assert.Equal([true], _failures.Ended);
    }

    [Fact]
    public async Task RedeemAsync_MalformedTicket_IsNeverLookedUpAndCountsAsAFailure()
    {
        _store.Tickets["hash"] = Ticket;

        var redemption = await RedeemAsync(ticketHash: null, check: _ => null);

        Assert.Null(redemption.Ticket);
        Assert.Equal(TicketRejection.Malformed, redemption.Rejection);
        Assert.Empty(_store.Redeemed);
        Assert.Equal([true], _failures.Ended);
    }

    [Fact]
    public async Task RedeemAsync_AddressLockedOut_RefusesUnreadWithoutAnAttempt()
    {
        _store.Tickets["hash"] = Ticket;
        _failures.Locked = true;

        var redemption = await RedeemAsync("hash", check: _ => null);

        Assert.Same(GuardedRedemption.Locked, redemption);
        Assert.Empty(_store.Redeemed);
        Assert.Empty(_failures.Ended);
    }

    [Fact]
    public async Task RedeemAsync_StoreFails_ThrowsAndEndsTheAttemptAsNoFailure()
    {
        _store.Failure = new InvalidOperationException("store down");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => RedeemAsync("hash", check: _ => null));

        Assert.Same(_store.Failure, thrown);
        Assert.Equal([false], _failures.Ended);
    }

    [Fact]
    public async Task RedeemAsync_LimiterFailsToEndTheAttempt_ReportsTheFailureWithoutALockout()
    {
        // Arrange: the lockout's count cannot be written; the redemption itself stands.
        _store.Tickets["hash"] = Ticket;
        _failures.EndFailure = new InvalidOperationException("lockout store down");

        // Act
        var accepted = await RedeemAsync("hash", check: _ => null);
        _store.Tickets["hash"] = Ticket;
        var rejected = await RedeemAsync("hash", check: _ => TicketRejection.Expired);

        // Assert
        Assert.Same(Ticket, accepted.Ticket);
        Assert.Same(_failures.EndFailure, accepted.LockoutFailure);
        Assert.False(accepted.LockedOut);
        Assert.Equal(TicketRejection.Expired, rejected.Rejection);
        Assert.Same(_failures.EndFailure, rejected.LockoutFailure);
        Assert.False(rejected.LockedOut);
    }

    private Task<GuardedRedemption> RedeemAsync(string? ticketHash, Func<StoredTicket, TicketRejection?> check) =>
        new TicketRedeemer(_failures, _store).RedeemAsync(Client, ticketHash, check).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private sealed class RecordingLimiter : IAuthenticationFailureLimiter
    {
        public bool Locked { get; set; }

        public bool LockOutOnFailure { get; set; }

        public Exception? EndFailure { get; set; }

        public List<IPAddress?> Begun { get; } = [];

        public List<bool> Ended { get; } = [];

        public ValueTask<TimeSpan> GetLockoutAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(TimeSpan.Zero);

        public ValueTask<AuthenticationAttempt?> TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken = default)
        {
            Begun.Add(address);
            return ValueTask.FromResult(Locked ? null : new AuthenticationAttempt(address, Guid.NewGuid().ToString("N")));
        }

        public ValueTask<bool> EndAttemptAsync(AuthenticationAttempt attempt, bool failed, CancellationToken cancellationToken = default)
        {
            Ended.Add(failed);
            return EndFailure is { } failure ? ValueTask.FromException<bool>(failure) : ValueTask.FromResult(failed && LockOutOnFailure);
        }

        public ValueTask<bool> RecordFailureAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(false);
    }

    private sealed class FakeStore : ITicketStore
    {
        public Dictionary<string, StoredTicket> Tickets { get; } = [];

        public List<string> Redeemed { get; } = [];

        public Exception? Failure { get; set; }

        public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default)
        {
            Redeemed.Add(hash);
            if (Failure is { } failure)
            {
                return ValueTask.FromException<StoredTicket?>(failure);
            }

            return ValueTask.FromResult(Tickets.Remove(hash, out var ticket) ? ticket : null);
        }

        public ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
