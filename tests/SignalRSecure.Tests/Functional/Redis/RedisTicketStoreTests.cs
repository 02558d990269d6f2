using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.StackExchangeRedis.Tickets;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>The Redis ticket store against a real redis-server, with two connections standing for two nodes.</summary>
public sealed class RedisTicketStoreTests(RedisFixture redis) : TwoRedisNodesTest(redis)
{
    [Fact]
    public async Task Ticket_AddedOnOneNode_IsRedeemedOnAnotherWithEveryBinding()
    {
        var ticket = Ticket("alice", session: "session-1") with { ClientIp = "127.0.0.1", Origin = "https://chat.example", UserAgentHash = "ua-hash" };
        await Store(NodeA).AddAsync(ticket);

        var redeemed = await Store(NodeB).TryRedeemAsync(ticket.Hash);

        Assert.NotNull(redeemed);
        Assert.Equal(ticket.User, redeemed.User);
        Assert.Equal(ticket.Groups, redeemed.Groups);
        Assert.Equal(ticket.IssuedAt, redeemed.IssuedAt);
        Assert.Equal(ticket.ExpiresAt, redeemed.ExpiresAt);
        Assert.Equal(ticket.ClientIp, redeemed.ClientIp);
        Assert.Equal(ticket.Origin, redeemed.Origin);
        Assert.Equal(ticket.SessionKey, redeemed.SessionKey);
        Assert.Equal(ticket.UserAgentHash, redeemed.UserAgentHash);
    }

    [Fact]
    public async Task Ticket_RedeemedConcurrentlyFromTwoNodes_HasExactlyOneWinnerOutOfFifty()
    {
        var ticket = Ticket("alice");
        await Store(NodeA).AddAsync(ticket);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(0, 50).Select(async i =>
        {
            await start.Task;
            return await Store(i % 2 == 0 ? NodeA : NodeB).TryRedeemAsync(ticket.Hash);
        }).ToList();
        start.SetResult();
        var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Single(results, result => result is not null);
    }

    [Fact]
    public async Task Ticket_ExpiresInRedisWithItsLifetime()
    {
        var ticket = Ticket("alice");
        await Store(NodeA).AddAsync(ticket);

        var database = await NodeA.GetDatabaseAsync();
        var ttl = await database.KeyTimeToLiveAsync(Keys.Ticket(ticket.Hash));

        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Ticket_AlreadyExpired_IsNotStored()
    {
        var ticket = Ticket("alice") with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) };

        await Store(NodeA).AddAsync(ticket);

        Assert.Null(await Store(NodeB).TryRedeemAsync(ticket.Hash));
    }

    [Fact]
    public async Task RevokeUser_OnOneNode_RemovesEveryUnredeemedTicketOfThatUserOnly()
    {
        var first = Ticket("alice");
        var second = Ticket("alice");
        var other = Ticket("bob");
        foreach (var ticket in new[] { first, second, other })
        {
            await Store(NodeA).AddAsync(ticket);
        }

        await Store(NodeB).RevokeUserAsync("alice");

        Assert.Null(await Store(NodeA).TryRedeemAsync(first.Hash));
        Assert.Null(await Store(NodeA).TryRedeemAsync(second.Hash));
        Assert.NotNull(await Store(NodeA).TryRedeemAsync(other.Hash));
    }

    [Fact]
    public async Task RevokeSession_RemovesOnlyThatSessionsTickets()
    {
        var fromSession = Ticket("alice", session: "session-1");
        var fromOtherSession = Ticket("alice", session: "session-2");
        await Store(NodeA).AddAsync(fromSession);
        await Store(NodeA).AddAsync(fromOtherSession);

        await Store(NodeB).RevokeSessionAsync("session-1");

        Assert.Null(await Store(NodeA).TryRedeemAsync(fromSession.Hash));
        Assert.NotNull(await Store(NodeA).TryRedeemAsync(fromOtherSession.Hash));
    }

    private RedisTicketStore Store(RedisConnection node) => new(node, Keys, TimeProvider.System);

    private static StoredTicket Ticket(string user, string? session = null)
    {
        var now = DateTimeOffset.UtcNow;
        return new StoredTicket(SecretToken.Hash(SecretToken.Create()), user, ["general", "team-*"], now, now.AddSeconds(30), null, null, session);
    }
}
