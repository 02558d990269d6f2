using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.StackExchangeRedis.Accounts;
using SignalRSecure.StackExchangeRedis.Hosting;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>The Redis session store against a real redis-server, with two connections standing for two nodes.</summary>
public sealed class RedisSessionStoreTests(RedisFixture redis) : TwoRedisNodesTest(redis)
{
    [Fact]
    public async Task Session_AddedOnOneNode_IsFoundOnAnother()
    {
        var session = Session("alice");
        await Store(NodeA).AddAsync(session);

        var found = await Store(NodeB).GetAsync(session.Key);

        Assert.NotNull(found);
        Assert.Equal(session.User, found.User);
        Assert.Equal(session.Groups, found.Groups);
        Assert.Equal(session.ExpiresAt, found.ExpiresAt);
    }

    [Fact]
    public async Task Remove_OnOneNode_EndsTheSessionEverywhere()
    {
        var session = Session("alice");
        await Store(NodeA).AddAsync(session);

        await Store(NodeB).RemoveAsync(session.Key);

        Assert.Null(await Store(NodeA).GetAsync(session.Key));
    }

    [Fact]
    public async Task RemoveUser_EndsEveryOneOfThatUsersSessionsOnly()
    {
        var first = Session("alice");
        var second = Session("alice");
        var other = Session("bob");
        foreach (var session in new[] { first, second, other })
        {
            await Store(NodeA).AddAsync(session);
        }

        await Store(NodeB).RemoveUserAsync("alice");

        Assert.Null(await Store(NodeA).GetAsync(first.Key));
        Assert.Null(await Store(NodeA).GetAsync(second.Key));
        Assert.NotNull(await Store(NodeA).GetAsync(other.Key));
    }

    [Fact]
    public async Task Session_ExpiresInRedisWithItsLifetime()
    {
        var session = Session("alice");
        await Store(NodeA).AddAsync(session);

        var ttl = await (await NodeA.GetDatabaseAsync()).KeyTimeToLiveAsync(Keys.Session(session.Key));

        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
    }

    private RedisSessionStore Store(RedisConnection node) => new(node, Keys, TimeProvider.System);

    private static LoginSession Session(string user) =>
        new(Guid.NewGuid().ToString("N"), user, ["general"], DateTimeOffset.UtcNow.AddHours(1));
}
