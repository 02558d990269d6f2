using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.StackExchangeRedis.Accounts;
using SignalRSecure.StackExchangeRedis.Hosting;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>The Redis session store against a real redis-server, with two connections standing for two nodes.</summary>
public sealed class RedisSessionStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly RedisKeys _keys = new(RedisFixture.UniquePrefix());
    private RedisConnection _nodeA = null!;
    private RedisConnection _nodeB = null!;

    public Task InitializeAsync()
    {
        _nodeA = new RedisConnection(redis.Server.Configuration);
        _nodeB = new RedisConnection(redis.Server.Configuration);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _nodeA.DisposeAsync();
        await _nodeB.DisposeAsync();
    }

    [Fact]
    public async Task Session_AddedOnOneNode_IsFoundOnAnother()
    {
        var session = Session("alice");
        await Store(_nodeA).AddAsync(session);

        var found = await Store(_nodeB).GetAsync(session.Key);

        Assert.NotNull(found);
        Assert.Equal(session.User, found.User);
        Assert.Equal(session.Groups, found.Groups);
        Assert.Equal(session.ExpiresAt, found.ExpiresAt);
    }

    [Fact]
    public async Task Remove_OnOneNode_EndsTheSessionEverywhere()
    {
        var session = Session("alice");
        await Store(_nodeA).AddAsync(session);

        await Store(_nodeB).RemoveAsync(session.Key);

        Assert.Null(await Store(_nodeA).GetAsync(session.Key));
    }

    [Fact]
    public async Task RemoveUser_EndsEveryOneOfThatUsersSessionsOnly()
    {
        var first = Session("alice");
        var second = Session("alice");
        var other = Session("bob");
        foreach (var session in new[] { first, second, other })
        {
            await Store(_nodeA).AddAsync(session);
        }

        await Store(_nodeB).RemoveUserAsync("alice");

        Assert.Null(await Store(_nodeA).GetAsync(first.Key));
        Assert.Null(await Store(_nodeA).GetAsync(second.Key));
        Assert.NotNull(await Store(_nodeA).GetAsync(other.Key));
    }

    [Fact]
    public async Task Session_ExpiresInRedisWithItsLifetime()
    {
        var session = Session("alice");
        await Store(_nodeA).AddAsync(session);

        var ttl = await (await _nodeA.GetDatabaseAsync()).KeyTimeToLiveAsync(_keys.Session(session.Key));

        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
    }

    private RedisSessionStore Store(RedisConnection node) => new(node, _keys, TimeProvider.System);

    private static LoginSession Session(string user) =>
        new(Guid.NewGuid().ToString("N"), user, ["general"], DateTimeOffset.UtcNow.AddHours(1));
}
