using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// Tests of the Redis stores against the class's real redis-server, through two connections of their own standing for
/// two nodes, with key names no other test uses.
/// </summary>
public abstract class TwoRedisNodesTest(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    /// <summary>The redis-server of the test class.</summary>
    protected RedisServer Server => redis.Server;

    private protected RedisKeys Keys { get; } = new(RedisFixture.UniquePrefix());

    private protected RedisConnection NodeA { get; private set; } = null!;

    private protected RedisConnection NodeB { get; private set; } = null!;

    public Task InitializeAsync()
    {
        NodeA = new RedisConnection(redis.Server.Configuration);
        NodeB = new RedisConnection(redis.Server.Configuration);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await NodeA.DisposeAsync();
        await NodeB.DisposeAsync();
    }
}
