using Microsoft.Extensions.Options;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.Tests.Infrastructure;
using StackExchange.Redis;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>The Redis history against a real redis-server, on a manual clock: the lifetime window and the trimmed edge.</summary>
public sealed class RedisChatHistoryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ManualTimeProvider _time = new();
    private readonly List<ChatMessage> _delivered = [];

    [Fact]
    public async Task ReadSince_AMessageAfterTheClientsLastExpired_IsNotRecovered()
    {
        // Arrange: three messages a minute apart.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var history = HistoryOn(connection);
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync(history, $"m{i}");
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        // Act: m0 expires, then m1.
        _time.Advance(ChatOptions.DefaultHistoryLifetime - TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(30));
        var afterFirstExpired = await history.ReadSinceAsync("general", _delivered[0].Id!, default);
        _time.Advance(TimeSpan.FromMinutes(1));
        var afterSecondExpired = await history.ReadSinceAsync("general", _delivered[0].Id!, default);
        var page = await history.ReadAsync("general", null, 10, default);

        // Assert
        Assert.True(afterFirstExpired.Recovered);
        Assert.Equal(["m1", "m2"], afterFirstExpired.Messages.Select(m => m.Text));
        Assert.False(afterSecondExpired.Recovered);
        Assert.Equal(["m2"], afterSecondExpired.Messages.Select(m => m.Text));
        Assert.Equal([_delivered[2]], page);
    }

    [Fact]
    public async Task Append_ClockBehindTheStreamsLastId_StillIncreases()
    {
        // Arrange: another node's clock ran a minute ahead.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var prefix = RedisFixture.UniquePrefix();
        var history = HistoryOn(connection, prefix);
        await AppendAsync(history, "behind 0");

        // Act
        await AppendAsync(HistoryOn(connection, prefix, new OffsetClock(_time, TimeSpan.FromMinutes(1))), "ahead");
        await AppendAsync(history, "behind 1");

        // Assert
        var ids = _delivered.Select(m => m.Id!).ToArray();
        Assert.Equal(ids.Order(Comparer<string>.Create(ChatMessageIds.Compare)), ids);
        Assert.Equal(_delivered, await history.ReadAsync("general", null, 10, default));
    }

    private RedisChatHistory HistoryOn(IConnectionMultiplexer connection, string? prefix = null, TimeProvider? clock = null) =>
        new(new Connection(connection), Options.Create(new RedisOptions { ChannelPrefix = prefix ?? RedisFixture.UniquePrefix() }),
            Options.Create(new ChatOptions()), clock ?? _time);

    private async Task AppendAsync(IChatHistory history, string text) =>
        await history.AppendAsync(new ChatMessage("bob", text, "general", _time.GetUtcNow()), m =>
        {
            _delivered.Add(m);
            return Task.CompletedTask;
        }, default).AsTask().WaitAsync(Timeout);

    private sealed class Connection(IConnectionMultiplexer connection) : ISignalRSecureRedisConnection
    {
        public ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(connection.GetDatabase());
    }

    private sealed class OffsetClock(TimeProvider inner, TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + offset;
    }
}
