using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>One real redis-server for a test class; each test keeps its keys under a prefix of its own.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A prefix no other test uses.</summary>
    public static string UniquePrefix() => $"test-{Guid.NewGuid():N}:";
}
