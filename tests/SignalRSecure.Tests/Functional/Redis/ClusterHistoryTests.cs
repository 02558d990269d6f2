using SignalRSecure.Chat.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>History and recovery across two real nodes sharing one redis-server.</summary>
public sealed class ClusterHistoryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task RejoinGroup_OnANodeOtherThanTheSendersAfterATcpReset_ReturnsAll20InOrderOnce()
    {
        // Arrange: alice on A, bob sends on B; alice comes back on A, whose own memory never held bob's messages.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);

        // Act
        var recovery = await HistoryDrill.RecoverAfterResetAsync(nodeA, nodeB, sent: 20, aliceReturnsTo: nodeA);

        // Assert
        Assert.True(recovery.Recovered);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"missed {i}"), recovery.Texts);
        Assert.Equal(recovery.Ids.Order(Comparer<string>.Create(ChatMessageIds.Compare)), recovery.Ids);
        Assert.Equal(20, recovery.Ids.Distinct().Count());
    }

    [Fact]
    public async Task GetHistory_OnEitherNode_ReturnsTheSameMessagesWithTheSameIds()
    {
        // Arrange
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        await using var alice = await HistoryDrill.AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var bob = await HistoryDrill.AuthenticatedAsync(nodeB, SecureServer.Bob);
        await HistoryDrill.CallOkAsync(alice, nameof(IChatHub.Broadcast), "from A");
        await HistoryDrill.CallOkAsync(bob, nameof(IChatHub.Broadcast), "from B");

        // Act
        var (onA, errorA) = await alice.CallAsync(nameof(IChatHub.GetHistory), null, null, null).WaitAsync(HistoryDrill.Timeout);
        var (onB, errorB) = await bob.CallAsync(nameof(IChatHub.GetHistory), null, null, null).WaitAsync(HistoryDrill.Timeout);

        // Assert
        Assert.Equal((null, null), (errorA, errorB));
        Assert.Equal(onA!.Value.GetRawText(), onB!.Value.GetRawText());
        Assert.Equal(["from A", "from B"], onA.Value.EnumerateArray().Select(m => m.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task RejoinGroup_GapLongerThanTheHistory_ReportsNotRecovered()
    {
        // Arrange: MAXLEN ~ may keep more than the length, but recovery reaches back the length only.
        var prefix = RedisFixture.UniquePrefix();
        var settings = new Dictionary<string, string?> { ["SignalRSecure:Chat:HistoryLength"] = "5" };
        await using var nodeA = await StartNodeAsync(prefix, settings);
        await using var nodeB = await StartNodeAsync(prefix, settings);

        // Act
        var recovery = await HistoryDrill.RecoverAfterResetAsync(nodeA, nodeB, sent: 8, aliceReturnsTo: nodeB);

        // Assert
        Assert.False(recovery.Recovered);
        Assert.Equal(Enumerable.Range(3, 5).Select(i => $"missed {i}"), recovery.Texts);
    }

    private Task<SecureServer> StartNodeAsync(string prefix, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["SignalRSecure:Redis:Configuration"] = redis.Server.Configuration,
            ["SignalRSecure:Redis:ChannelPrefix"] = prefix,
        };
        return SecureServer.StartAsync(all);
    }
}
