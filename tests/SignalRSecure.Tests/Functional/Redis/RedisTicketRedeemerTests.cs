using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.StackExchangeRedis.Protection;
using SignalRSecure.StackExchangeRedis.Tickets;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// The one-script redemption on Redis (lockout and ticket together) against a real redis-server, two connections standing
/// for two nodes: the lockout's rules hold across nodes, a locked-out address never reads a ticket, and a clean
/// redemption is one script call.
/// </summary>
public sealed class RedisTicketRedeemerTests(RedisFixture redis) : TwoRedisNodesTest(redis)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.9");
    private static readonly Func<StoredTicket, TicketRejection?> Accept = _ => null;

    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task Redeem_UnknownTicketsSplitOverTwoNodes_LockTheAddressOutAtTheThreshold()
    {
        var onA = Redeemer(NodeA, failures: 4);
        var onB = Redeemer(NodeB, failures: 4);

        var outcomes = new List<GuardedRedemption>();
        for (var i = 0; i < 4; i++)
        {
            outcomes.Add(await (i % 2 == 0 ? onA : onB).RedeemAsync(Attacker, UnknownHash(), Accept).AsTask().WaitAsync(Timeout));
        }

        Assert.All(outcomes, outcome => Assert.Equal(TicketRejection.Unknown, outcome.Rejection));
        Assert.Equal([false, false, false, true], outcomes.Select(outcome => outcome.LockedOut));
        Assert.True((await onB.RedeemAsync(Attacker, UnknownHash(), Accept).AsTask().WaitAsync(Timeout)).AddressLockedOut);
    }

    [Fact]
    public async Task Redeem_FromALockedOutAddress_LeavesTheTicketUnreadUntilTheLockoutEnds()
    {
        var redeemer = Redeemer(NodeA, failures: 1);
        var ticket = await AddTicketAsync("alice");
        await redeemer.RedeemAsync(Attacker, UnknownHash(), Accept).AsTask().WaitAsync(Timeout);

        var refused = await redeemer.RedeemAsync(Attacker, ticket.Hash, Accept).AsTask().WaitAsync(Timeout);
        var database = await NodeA.GetDatabaseAsync();
        var stillThere = await database.KeyExistsAsync(Keys.Ticket(ticket.Hash));
        _time.Advance(new ProtectionOptions().AuthenticationLockout);
        var afterLockout = await redeemer.RedeemAsync(Attacker, ticket.Hash, Accept).AsTask().WaitAsync(Timeout);

        Assert.True(refused.AddressLockedOut);
        Assert.Null(refused.Ticket);
        Assert.True(stillThere);
        Assert.Equal("alice", afterLockout.Ticket?.User);
    }

    [Fact]
    public async Task Redeem_MalformedTicket_CountsAFailureWithoutAKeyToRead()
    {
        var redeemer = Redeemer(NodeB, failures: 1);

        var outcome = await redeemer.RedeemAsync(Attacker, ticketHash: null, Accept).AsTask().WaitAsync(Timeout);

        Assert.Equal(TicketRejection.Malformed, outcome.Rejection);
        Assert.True(outcome.LockedOut);
    }

    [Fact]
    public async Task Redeem_TicketRefusedByItsCheck_IsSpentAndCountsAFailure()
    {
        var redeemer = Redeemer(NodeA, failures: 1);
        var ticket = await AddTicketAsync("alice");

        var outcome = await redeemer.RedeemAsync(Attacker, ticket.Hash, _ => TicketRejection.WrongIp).AsTask().WaitAsync(Timeout);
        var again = await Redeemer(NodeB, failures: 1).RedeemAsync(IPAddress.Loopback, ticket.Hash, Accept).AsTask().WaitAsync(Timeout);

        Assert.Null(outcome.Ticket);
        Assert.Equal(TicketRejection.WrongIp, outcome.Rejection);
        Assert.True(outcome.LockedOut);
        Assert.Equal(TicketRejection.Unknown, again.Rejection);
    }

    [Fact]
    public async Task Redeem_OneTicketFromFiftyAddressesOnTwoNodesAtOnce_HasExactlyOneWinner()
    {
        var ticket = await AddTicketAsync("alice");
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(1, 50).Select(async i =>
        {
            await start.Task;
            return await Redeemer(i % 2 == 0 ? NodeA : NodeB).RedeemAsync(IPAddress.Parse($"198.51.100.{i}"), ticket.Hash, Accept);
        }).ToList();
        start.SetResult();
        var outcomes = await Task.WhenAll(attempts).WaitAsync(Timeout);

        Assert.Single(outcomes, outcome => outcome.Ticket is not null);
        Assert.Equal(49, outcomes.Count(outcome => outcome.Rejection == TicketRejection.Unknown));
    }

    [Fact]
    public async Task Redeem_ValidTicket_IsOneScriptCallAndLeavesNoLockoutState()
    {
        var redeemer = Redeemer(NodeA);
        var ticket = await AddTicketAsync("alice");
        var before = await Server.ScriptCallsAsync();

        var outcome = await redeemer.RedeemAsync(Attacker, ticket.Hash, Accept).AsTask().WaitAsync(Timeout);
        var after = await Server.ScriptCallsAsync();
        var database = await NodeA.GetDatabaseAsync();

        Assert.Equal("alice", outcome.Ticket?.User);
        Assert.Equal(1, after - before);
        Assert.False(await database.KeyExistsAsync(Keys.AuthenticationFailures(ClientAddress.PartitionKey(Attacker).ToString())));
    }

    private RedisTicketRedeemer Redeemer(RedisConnection connection, int failures = 10) =>
        new(connection, Keys, new RedisAuthenticationFailureLimiter(
            connection, Keys, Options.Create(new ProtectionOptions { AuthenticationFailuresPerIp = failures }), Options.Create(new SecureHubOptions()), _time), _time);

    private async Task<StoredTicket> AddTicketAsync(string user)
    {
        var now = _time.GetUtcNow();
        var ticket = new StoredTicket(SecretToken.Hash(SecretToken.Create()), user, ["general"], now, now.AddSeconds(30), null, null, null);

        await new RedisTicketStore(NodeA, Keys, _time).AddAsync(ticket);
        return ticket;
    }

    private static string UnknownHash() => SecretToken.Hash(SecretToken.Create());
}
