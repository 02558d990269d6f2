using Microsoft.Extensions.Options;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>The in-memory history: ids, the window by length and by lifetime, the group cap, and the order of delivery.</summary>
public sealed class ChatHistoryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ManualTimeProvider _time = new();
    private readonly List<ChatMessage> _delivered = [];

    [Fact]
    public async Task Append_ManyInOneMillisecondAndAClockStepBack_IdsIncrease()
    {
        // Arrange
        var clock = new SettableClock { Now = _time.GetUtcNow() };
        var history = new InMemoryChatHistory(Options.Create(new ChatOptions()), clock);

        // Act
        await AppendAsync(history, "general", 3);
        clock.Now -= TimeSpan.FromMilliseconds(5);
        await AppendAsync(history, "general", 2);

        // Assert
        var ids = _delivered.Select(m => m.Id!).ToArray();
        Assert.All(ids, id => Assert.True(ChatMessageIds.IsValid(id)));
        Assert.Equal(ids, ids.Order(Comparer<string>.Create(ChatMessageIds.Compare)));
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(_delivered, await history.ReadAsync("general", null, 10, default));
    }

    [Fact]
    public async Task Read_BeforeIdAndLimit_ReturnsTheNewestOlderOnesOldestFirst()
    {
        // Arrange
        var history = HistoryWith();
        await AppendAsync(history, "general", 10);

        // Act
        var newest = await history.ReadAsync("general", null, 3, default);
        var page = await history.ReadAsync("general", _delivered[7].Id, 3, default);

        // Assert
        Assert.Equal(_delivered[7..10], newest);
        Assert.Equal(_delivered[4..7], page);
        Assert.Empty(await history.ReadAsync("general", _delivered[0].Id, 3, default));
        Assert.Empty(await history.ReadAsync("unknown", null, 3, default));
    }

    [Fact]
    public async Task ReadSince_WithinTheHistory_ReturnsExactlyTheMissedInOrderAndRecovered()
    {
        // Arrange
        var history = HistoryWith();
        await AppendAsync(history, "general", 5);

        // Act
        var recovery = await history.ReadSinceAsync("general", _delivered[1].Id!, default);
        var upToDate = await history.ReadSinceAsync("general", _delivered[4].Id!, default);

        // Assert
        Assert.True(recovery.Recovered);
        Assert.Equal(_delivered[2..5], recovery.Messages);
        Assert.True(upToDate.Recovered);
        Assert.Empty(upToDate.Messages);
    }

    [Fact]
    public async Task ReadSince_GapLongerThanTheLength_IsNotRecoveredButReturnsWhatIsKept()
    {
        // Arrange: 3 kept of 6, so messages 0 to 2 are trimmed.
        var history = HistoryWith(length: 3);
        await AppendAsync(history, "general", 6);

        // Act
        var gap = await history.ReadSinceAsync("general", _delivered[1].Id!, default);
        var edge = await history.ReadSinceAsync("general", _delivered[2].Id!, default);

        // Assert
        Assert.False(gap.Recovered);
        Assert.Equal(_delivered[3..6], gap.Messages);
        Assert.True(edge.Recovered);
        Assert.Equal(_delivered[3..6], edge.Messages);
        Assert.Equal(_delivered[3..6], await history.ReadAsync("general", null, 10, default));
    }

    [Fact]
    public async Task Read_AtTheLifetimeEdge_KeepsUntilItThenDrops()
    {
        // Arrange
        var history = HistoryWith();
        await AppendAsync(history, "general", 1);
        _time.Advance(TimeSpan.FromMinutes(1));
        await AppendAsync(history, "general", 1);

        // Act
        _time.Advance(ChatOptions.DefaultHistoryLifetime - TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        var justBefore = await history.ReadAsync("general", null, 10, default);
        _time.Advance(TimeSpan.FromTicks(1));
        var atTheEdge = await history.ReadAsync("general", null, 10, default);

        // Assert
        Assert.Equal(_delivered, justBefore);
        Assert.Equal(_delivered[1..], atTheEdge);
    }

    [Fact]
    public async Task ReadSince_EverythingExpiredAfterTheClientsLastMessage_IsRecoveredAndEmpty()
    {
        // Arrange
        var history = HistoryWith();
        await AppendAsync(history, "general", 2);

        // Act
        _time.Advance(ChatOptions.DefaultHistoryLifetime);
        var upToDate = await history.ReadSinceAsync("general", _delivered[1].Id!, default);
        var behind = await history.ReadSinceAsync("general", _delivered[0].Id!, default);

        // Assert
        Assert.Equal((true, 0), (upToDate.Recovered, upToDate.Messages.Count));
        Assert.Equal((false, 0), (behind.Recovered, behind.Messages.Count));
    }

    [Fact]
    public async Task Append_MoreGroupsThanTheCap_EvictsTheLeastRecentlyWritten()
    {
        // Arrange
        var history = HistoryWith(groups: 2);
        await AppendAsync(history, "a", 1);
        await AppendAsync(history, "b", 1);
        await AppendAsync(history, "a", 1);

        // Act
        await AppendAsync(history, "c", 1);

        // Assert
        Assert.Equal(2, (await history.ReadAsync("a", null, 10, default)).Count);
        Assert.Empty(await history.ReadAsync("b", null, 10, default));
        var evicted = await history.ReadSinceAsync("b", _delivered[1].Id!, default);
        Assert.False(evicted.Recovered);
        Assert.Single(await history.ReadAsync("c", null, 10, default));
    }

    [Fact]
    public async Task Append_GroupsAndBroadcast_KeepSeparateHistories()
    {
        // Arrange
        var history = HistoryWith();

        // Act
        await AppendAsync(history, null, 2);
        await AppendAsync(history, "general", 1);

        // Assert
        Assert.Equal(_delivered[..2], await history.ReadAsync(null, null, 10, default));
        Assert.Equal(_delivered[2..], await history.ReadAsync("general", null, 10, default));
    }

    [Fact]
    public async Task Append_SecondSenderWhileTheFirstDelivers_WaitsAndDeliversInIdOrder()
    {
        // Arrange: the first delivery holds until the test releases it.
        var history = HistoryWith();
        var firstDelivering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<string>();
        var first = history.AppendAsync(Message("general", "first"), async m =>
        {
            firstDelivering.SetResult();
            await releaseFirst.Task;
            lock (order)
            {
                order.Add(m.Id!);
            }
        }, default).AsTask();
        await firstDelivering.Task.WaitAsync(Timeout);

        // Act
        var second = history.AppendAsync(Message("general", "second"), m =>
        {
            lock (order)
            {
                order.Add(m.Id!);
            }

            return Task.CompletedTask;
        }, default).AsTask();
        var secondWaited = !second.IsCompleted;
        releaseFirst.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Timeout);

        // Assert
        Assert.True(secondWaited);
        Assert.Equal(2, order.Count);
        Assert.True(ChatMessageIds.Compare(order[0], order[1]) < 0);
        Assert.Equal(order, (await history.ReadAsync("general", null, 10, default)).Select(m => m.Id));
    }

    [Theory]
    [InlineData("1-0", true)]
    [InlineData("1732870000000-12", true)]
    [InlineData("18446744073709551615-18446744073709551615", true)]
    [InlineData("18446744073709551616-0", false)]
    [InlineData("1-0\n", false)]
    [InlineData("1-0\r\n", false)]
    [InlineData(" 1-0", false)]
    [InlineData("+1-0", false)]
    [InlineData("1--0", false)]
    [InlineData("1-", false)]
    [InlineData("-1", false)]
    [InlineData("1", false)]
    [InlineData("١-0", false)]
    [InlineData("", false)]
    public void IsValid_Id_AcceptsOnlyTwoDecimalNumbers(string id, bool valid) =>
        Assert.Equal(valid, ChatMessageIds.IsValid(id));

    [Theory]
    [InlineData("9-0", "10-0", -1)]
    [InlineData("10-9", "10-10", -1)]
    [InlineData("10-10", "10-10", 0)]
    [InlineData("11-0", "10-99", 1)]
    public void Compare_Ids_OrdersByTheNumbersNotTheText(string left, string right, int expected) =>
        Assert.Equal(expected, Math.Sign(ChatMessageIds.Compare(left, right)));

    private InMemoryChatHistory HistoryWith(int length = ChatOptions.DefaultHistoryLength, int groups = ChatOptions.DefaultHistoryGroups) =>
        new(Options.Create(new ChatOptions { HistoryLength = length, HistoryGroups = groups }), _time);

    private ChatMessage Message(string? group, string text) => new("bob", text, group, _time.GetUtcNow());

    private async Task AppendAsync(IChatHistory history, string? group, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await history.AppendAsync(Message(group, $"m{_delivered.Count}"), m =>
            {
                _delivered.Add(m);
                return Task.CompletedTask;
            }, default).AsTask().WaitAsync(Timeout);
        }
    }

    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
