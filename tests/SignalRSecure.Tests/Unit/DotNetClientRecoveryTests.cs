using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Tests.Functional;

namespace SignalRSecure.Tests.Unit;

/// <summary>The .NET client's automatic recovery on reconnect, and its duplicate and order filter.</summary>
public sealed class DotNetClientRecoveryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ObservedTimeProvider _time = new();
    private readonly FakeHub _hub;

    public DotNetClientRecoveryTests() => _hub = new FakeHub(_time);

    [Fact]
    public async Task Reconnect_LiveMessageDuringRecovery_DeliversTheMissedFirstThenTheLiveEachOnce()
    {
        // Arrange: m1 delivered; on the new connection m4 and a repeat of m1 arrive live before RejoinGroup answers m2..m4.
        await using var client = _hub.CreateClient();
        var received = new Recorder<ChatMessage>();
        var gaps = new Recorder<HistoryGap>();
        client.MessageReceived += received.Handler;
        client.HistoryGapDetected += gaps.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        await client.JoinGroupAsync("general").WaitAsync(Timeout);
        var first = await _hub.Opened.NextAsync();
        await first.Callbacks.ReceiveMessage(Message("1-0"));
        FakeInvocation? rejoin = null;
        _hub.Answer = async (link, invocation) =>
        {
            if (invocation.Method == nameof(IChatHub.RejoinGroup))
            {
                rejoin = invocation;
                await link.Callbacks.ReceiveMessage(Message("4-0"));
                await link.Callbacks.ReceiveMessage(Message("1-0"));
                return new GroupRecovery([Message("2-0"), Message("3-0"), Message("4-0")], Recovered: true);
            }

            return await _hub.DefaultAnswerAsync(link, invocation);
        };

        // Act
        first.Drop(new IOException("connection reset"));
        var delivered = new List<string?>();
        for (var i = 0; i < 4; i++)
        {
            delivered.Add((await received.NextAsync().WaitAsync(Timeout)).Id);
        }

        var second = await _hub.Opened.NextAsync();
        await second.Callbacks.ReceiveMessage(Message("3-0"));
        await second.Callbacks.ReceiveMessage(Message("5-0"));
        delivered.Add((await received.NextAsync().WaitAsync(Timeout)).Id);

        // Assert
        Assert.Equal(["1-0", "2-0", "3-0", "4-0", "5-0"], delivered);
        Assert.Equal(["general", "1-0"], rejoin!.Arguments);
        Assert.Empty(gaps.All);
    }

    [Fact]
    public async Task Reconnect_HistoryDidNotReachBack_RaisesTheGapAfterTheRecoveredMessages()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var events = new Recorder<string>();
        client.MessageReceived += (_, m) => events.Add($"message {m.Id}");
        client.HistoryGapDetected += (_, gap) => events.Add($"gap {gap.Group ?? "broadcast"}");
        await client.ConnectAsync().WaitAsync(Timeout);
        var first = await _hub.Opened.NextAsync();
        await first.Callbacks.ReceiveMessage(Message("1-0") with { Group = null });
        _hub.Answer = (link, invocation) => invocation.Method == nameof(IChatHub.RejoinGroup)
            ? Task.FromResult<object?>(new GroupRecovery([Message("9-0") with { Group = null }], Recovered: false))
            : _hub.DefaultAnswerAsync(link, invocation);

        // Act
        first.Drop(new IOException("connection reset"));
        await events.NextAsync(e => e == "gap broadcast").WaitAsync(Timeout);

        // Assert
        Assert.Equal(["message 1-0", "message 9-0", "gap broadcast"], events.All);
    }

    [Fact]
    public async Task GetHistoryAsync_Arguments_GoOutAsGroupBeforeIdAndLimit()
    {
        await using var client = _hub.CreateClient();
        _hub.Answer = (link, invocation) => invocation.Method == nameof(IChatHub.GetHistory)
            ? Task.FromResult<object?>(new List<ChatMessage> { Message("7-0") })
            : _hub.DefaultAnswerAsync(link, invocation);
        await client.ConnectAsync().WaitAsync(Timeout);

        var history = await client.GetHistoryAsync("general", "8-0", 10).WaitAsync(Timeout);

        var link = await _hub.Opened.NextAsync();
        Assert.Equal("7-0", Assert.Single(history).Id);
        Assert.Equal(["general", "8-0", 10], link.Invocations.All.Single(i => i.Method == nameof(IChatHub.GetHistory)).Arguments);
    }

    private static ChatMessage Message(string id) => new("bob", $"text {id}", "general", DateTimeOffset.UnixEpoch, id);
}
