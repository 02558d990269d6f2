using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>Tickets as issued, and as the gate redeems them (<see cref="GateRedemption"/>): single use, expiry, bindings.</summary>
public sealed class TicketServiceTests : IDisposable
{
    private static readonly TimeSpan Lifetime = TicketOptions.DefaultLifetime;
    private const string BrowserA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";
    private const string BrowserB = "Mozilla/5.0 (X11; Linux x86_64; rv:143.0) Gecko/20100101 Firefox/143.0";
    private static readonly string NoUserAgent = UserAgentHash.Of(null);
    private readonly ManualTimeProvider _time = new();
    private readonly CountingTicketStore _store;
    private readonly TicketService _tickets;
    private readonly GateRedemption _gate;

    public TicketServiceTests()
    {
        _store = new CountingTicketStore(new InMemoryTicketStore(_time, Options.Create(new TicketOptions())));
        _tickets = new TicketService(_store, Options.Create(new TicketOptions()), _time);
        _gate = new GateRedemption(_tickets, _store, _time);
    }

    public void Dispose() => _gate.Dispose();

    [Fact]
    public async Task Issue_ReturnsUrlSafe256BitTicket_StoredOnlyAsItsHash()
    {
        var issued = await _tickets.IssueAsync(Grant());

        Assert.Equal(43, issued.Ticket.Length);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", issued.Ticket);
        Assert.Equal(_time.GetUtcNow() + Lifetime, issued.ExpiresAt);
        var stored = Assert.Single(_store.Added);
        Assert.NotEqual(issued.Ticket, stored.Hash);
        Assert.Equal(SecretToken.Hash(issued.Ticket), stored.Hash);
    }

    [Fact]
    public async Task Issue_TwoTickets_AreDifferent()
    {
        var first = await _tickets.IssueAsync(Grant());
        var second = await _tickets.IssueAsync(Grant());

        Assert.NotEqual(first.Ticket, second.Ticket);
    }

    [Fact]
    public async Task Redeem_FreshTicket_ReturnsItsUserAndGroups()
    {
        var issued = await _tickets.IssueAsync(Grant());

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);

        Assert.NotNull(redemption.Ticket);
        Assert.Equal("alice", redemption.Ticket!.User);
        Assert.Equal(["general", "ops"], redemption.Ticket.Groups);
    }

    [Fact]
    public async Task Redeem_Twice_SecondFails()
    {
        var issued = await _tickets.IssueAsync(Grant());

        var first = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);
        var second = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);

        Assert.NotNull(first.Ticket);
        Assert.Null(second.Ticket);
        Assert.Equal(TicketRejection.Unknown, second.Rejection);
    }

    [Fact]
    public async Task Redeem_OneMillisecondBeforeExpiry_Succeeds()
    {
        var issued = await _tickets.IssueAsync(Grant());
        _time.Advance(Lifetime - TimeSpan.FromMilliseconds(1));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);

        Assert.NotNull(redemption.Ticket);
    }

    [Fact]
    public async Task Redeem_OneMillisecondAfterExpiry_FailsAndConsumesTheTicket()
    {
        // Issued half a sweep interval after the store started, so that no sweep has dropped it 1 ms after expiry.
        _time.Advance(Lifetime / 2);
        var issued = await _tickets.IssueAsync(Grant());
        _time.Advance(Lifetime + TimeSpan.FromMilliseconds(1));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);

        Assert.Equal(TicketRejection.Expired, redemption.Rejection);
        Assert.Equal(0, ((InMemoryTicketStore)_store.Inner).Count);
    }

    [Fact]
    public async Task Redeem_FromAnotherIp_FailsAndConsumesTheTicket()
    {
        var issued = await _tickets.IssueAsync(Grant(clientIp: "10.0.0.1"));

        var wrongIp = await _gate.RedeemAsync(issued.Ticket, "10.0.0.2", null, NoUserAgent);
        var rightIpAfterwards = await _gate.RedeemAsync(issued.Ticket, "10.0.0.1", null, NoUserAgent);

        Assert.Equal(TicketRejection.WrongIp, wrongIp.Rejection);
        Assert.Equal(TicketRejection.Unknown, rightIpAfterwards.Rejection);
    }

    [Fact]
    public async Task Redeem_FromAnotherIp_SucceedsWhenIpBindingIsOff()
    {
        var tickets = new TicketService(_store, Options.Create(new TicketOptions { BindToClientIp = false }), _time);
        var issued = await tickets.IssueAsync(Grant(clientIp: "10.0.0.1"));

        using var gate = new GateRedemption(tickets, _store, _time);
        var redemption = await gate.RedeemAsync(issued.Ticket, "10.0.0.2", null, NoUserAgent);

        Assert.NotNull(redemption.Ticket);
    }

    [Fact]
    public async Task Redeem_TicketMintedForOriginA_FailsFromOriginB()
    {
        var issued = await _tickets.IssueAsync(Grant(origin: "https://a.example"));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", "https://b.example", NoUserAgent);

        Assert.Equal(TicketRejection.WrongOrigin, redemption.Rejection);
    }

    [Fact]
    public async Task Redeem_TicketMintedForOriginA_FailsWithoutOrigin()
    {
        var issued = await _tickets.IssueAsync(Grant(origin: "https://a.example"));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", origin: null, NoUserAgent);

        Assert.Equal(TicketRejection.WrongOrigin, redemption.Rejection);
    }

    [Fact]
    public async Task Redeem_TicketMintedForOriginA_SucceedsFromOriginA()
    {
        var issued = await _tickets.IssueAsync(Grant(origin: "https://a.example"));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", "https://a.example", NoUserAgent);

        Assert.NotNull(redemption.Ticket);
    }

    [Fact]
    public async Task Redeem_TicketMintedForUserAgentA_FailsFromUserAgentBAndIsConsumed()
    {
        var issued = await _tickets.IssueAsync(Grant(userAgent: BrowserA));

        var wrongAgent = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, UserAgentHash.Of(BrowserB));
        var rightAgentAfterwards = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, UserAgentHash.Of(BrowserA));

        Assert.Equal(TicketRejection.WrongUserAgent, wrongAgent.Rejection);
        Assert.Equal(TicketRejection.Unknown, rightAgentAfterwards.Rejection);
    }

    [Fact]
    public async Task Redeem_TicketMintedForUserAgentA_SucceedsFromUserAgentA()
    {
        var issued = await _tickets.IssueAsync(Grant(userAgent: BrowserA));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, UserAgentHash.Of(BrowserA));

        Assert.NotNull(redemption.Ticket);
        Assert.Equal(UserAgentHash.Of(BrowserA), Assert.Single(_store.Added).UserAgentHash);
    }

    [Theory]
    [InlineData("")]
    [InlineData(BrowserA)]
    public async Task Redeem_TicketMintedForUserAgentA_FailsFromAnAgentThatDiffersOnlyAtTheEnd(string minted)
    {
        var issued = await _tickets.IssueAsync(Grant(userAgent: minted));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, UserAgentHash.Of(minted + " "));

        Assert.Equal(TicketRejection.WrongUserAgent, redemption.Rejection);
    }

    [Fact]
    public async Task Redeem_TicketMintedWithoutUserAgentHeader_SucceedsWithoutOne_FailsWithOne()
    {
        var first = await _tickets.IssueAsync(Grant(userAgent: string.Empty));
        var second = await _tickets.IssueAsync(Grant(userAgent: string.Empty));

        Assert.NotNull((await _gate.RedeemAsync(first.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
        Assert.Equal(TicketRejection.WrongUserAgent, (await _gate.RedeemAsync(second.Ticket, "127.0.0.1", null, UserAgentHash.Of(BrowserA))).Rejection);
    }

    [Fact]
    public async Task Redeem_TicketNotBoundToAUserAgent_SucceedsFromAnyAgent()
    {
        var issued = await _tickets.IssueAsync(Grant(userAgent: null));

        var redemption = await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, UserAgentHash.Of(BrowserB));

        Assert.NotNull(redemption.Ticket);
        Assert.Null(Assert.Single(_store.Added).UserAgentHash);
    }

    [Fact]
    public async Task Redeem_FromAnotherUserAgent_SucceedsWhenUserAgentBindingIsOff()
    {
        var tickets = new TicketService(_store, Options.Create(new TicketOptions { BindToUserAgent = false }), _time);
        var issued = await tickets.IssueAsync(Grant(userAgent: BrowserA));

        using var gate = new GateRedemption(tickets, _store, _time);
        var redemption = await gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, UserAgentHash.Of(BrowserB));

        Assert.NotNull(redemption.Ticket);
    }

    [Fact]
    public void UserAgentHash_IsBase64UrlSha256_AndMissingHeaderHashesAsEmpty()
    {
        Assert.Matches("^[A-Za-z0-9_-]{43}\\z", UserAgentHash.Of(BrowserA));
        Assert.Equal(UserAgentHash.Of(string.Empty), UserAgentHash.Of(null));
        Assert.NotEqual(UserAgentHash.Of(BrowserA), UserAgentHash.Of(BrowserB));
    }

    public static TheoryData<string?> MalformedTickets => new()
    {
        null,
        string.Empty,
        "12345",
        "not a ticket at all",
        new string('A', 42),
        new string('A', 44),
        new string('A', 42) + "=",
        new string('A', 42) + "\n",
        new string('x', 1024 * 1024),
    };

    [Theory]
    [MemberData(nameof(MalformedTickets))]
    public async Task Redeem_MalformedTicket_FailsWithoutTouchingTheStore(string? ticket)
    {
        var redemption = await _gate.RedeemAsync(ticket, "127.0.0.1", null, NoUserAgent);

        Assert.Equal(TicketRejection.Malformed, redemption.Rejection);
        Assert.Equal(0, _store.RedeemCalls);
    }

    [Fact]
    public async Task Redeem_UnknownWellFormedTicket_Fails()
    {
        var redemption = await _gate.RedeemAsync(SecretToken.Create(), "127.0.0.1", null, NoUserAgent);

        Assert.Equal(TicketRejection.Unknown, redemption.Rejection);
    }

    [Fact]
    public async Task Redeem_FiftyConcurrentCallers_ExactlyOneWins()
    {
        var issued = await _tickets.IssueAsync(Grant());
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racers = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await _gate.RedeemAsync(issued.Ticket, "127.0.0.1", null, NoUserAgent);
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(racers).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, results.Count(r => r.Ticket is not null));
        Assert.Equal(49, results.Count(r => r.Rejection == TicketRejection.Unknown));
    }

    [Fact]
    public async Task RevokeSession_RemovesOnlyThatSessionsTickets()
    {
        var ofSession = await _tickets.IssueAsync(Grant(sessionKey: "session-1"));
        var ofOtherSession = await _tickets.IssueAsync(Grant(sessionKey: "session-2"));

        await _store.RevokeSessionAsync("session-1");

        Assert.Null((await _gate.RedeemAsync(ofSession.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
        Assert.NotNull((await _gate.RedeemAsync(ofOtherSession.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
    }

    [Fact]
    public async Task RevokeUser_RemovesOnlyThatUsersTickets()
    {
        var alices = await _tickets.IssueAsync(Grant());
        var bobs = await _tickets.IssueAsync(Grant() with { User = "bob" });

        await _store.RevokeUserAsync("alice");

        Assert.Null((await _gate.RedeemAsync(alices.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
        Assert.NotNull((await _gate.RedeemAsync(bobs.Ticket, "127.0.0.1", null, NoUserAgent)).Ticket);
    }

    private static TicketGrant Grant(string clientIp = "127.0.0.1", string? origin = null, string? sessionKey = null, string? userAgent = null) =>
        new("alice", ["general", "ops"], clientIp, origin, sessionKey, userAgent);

    private sealed class CountingTicketStore(ITicketStore inner) : ITicketStore
    {
        public ITicketStore Inner => inner;

        public List<StoredTicket> Added { get; } = [];

        public int RedeemCalls { get; private set; }

        public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default)
        {
            Added.Add(ticket);
            return inner.AddAsync(ticket, cancellationToken);
        }

        public ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default)
        {
            RedeemCalls++;
            return inner.TryRedeemAsync(hash, cancellationToken);
        }

        public ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default) => inner.RevokeUserAsync(user, cancellationToken);

        public ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default) => inner.RevokeSessionAsync(sessionKey, cancellationToken);
    }
}
