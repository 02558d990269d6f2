using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;

namespace SignalRSecure.Tests.Unit;

public sealed class ChatHubTests : IDisposable
{
    private readonly GateTestbed _testbed = new();
    private readonly InMemoryGroupRoster _roster = new();
    private readonly RecordingClients _clients = new();
    private readonly RecordingGroups _groups = new();
    private readonly InMemoryChatHistory _history;

    public ChatHubTests() => _history = new InMemoryChatHistory(Options.Create(new ChatOptions()), _testbed.Time);

    [Fact]
    public async Task Echo_Text_ReturnsIt()
    {
        var hub = await HubForAsync("alice");

        Assert.Equal("<b>hi</b>", await hub.Echo("<b>hi</b>"));
    }

    [Theory]
    [InlineData(null, HubErrors.InvalidMessage)]
    [InlineData("", HubErrors.InvalidMessage)]
    public async Task Echo_MissingText_ThrowsInvalidMessage(string? text, string expected)
    {
        var hub = await HubForAsync("alice");

        Assert.Equal(expected, (await Assert.ThrowsAsync<HubException>(() => hub.Echo(text!))).Message);
    }

    [Fact]
    public async Task Broadcast_TextOverTheLimit_ThrowsMessageTooLongAndSendsNothing()
    {
        var hub = await HubForAsync("alice");

        var error = await Assert.ThrowsAsync<HubException>(() => hub.Broadcast(new string('x', ChatOptions.DefaultMaximumTextLength + 1)));

        Assert.Equal(HubErrors.MessageTooLong, error.Message);
        Assert.Empty(_clients.Sent);
    }

    [Fact]
    public async Task Broadcast_Text_GoesToAllFromTheTicketsUser()
    {
        var hub = await HubForAsync("alice");

        await hub.Broadcast(new string('x', ChatOptions.DefaultMaximumTextLength));

        var (audience, method, payload) = Assert.Single(_clients.Sent);
        Assert.Equal(("all", nameof(IChatClient.ReceiveMessage)), (audience, method));
        var message = Assert.IsType<ChatMessage>(payload);
        Assert.Equal("alice", message.From);
        Assert.Null(message.Group);
        Assert.Equal(_testbed.Time.GetUtcNow(), message.SentAt);
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("line\r\nbreak")]
    [InlineData("nul\0")]
    [InlineData("signalrsecure:authenticated")]
    public async Task JoinGroup_InvalidName_ThrowsInvalidGroupAndCreatesNothing(string group)
    {
        var hub = await HubForAsync("alice");

        var error = await Assert.ThrowsAsync<HubException>(() => hub.JoinGroup(group));

        Assert.Equal(HubErrors.InvalidGroup, error.Message);
        Assert.Empty(_groups.Changes);
        Assert.Empty(await _roster.MembersAsync(group));
    }

    [Fact]
    public async Task JoinGroup_NotAllowed_ThrowsForbidden()
    {
        var hub = await HubForAsync("bob", ["general"]);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.JoinGroup("ops"));

        Assert.Equal(HubErrors.Forbidden, error.Message);
        Assert.Empty(_groups.Changes);
    }

    [Fact]
    public async Task JoinGroup_AllowedByPattern_JoinsAndAnnounces()
    {
        var hub = await HubForAsync("carol", ["team-*"]);

        await hub.JoinGroup("team-blue");

        Assert.Equal(["+team-blue"], _groups.Changes);
        Assert.Contains(_clients.Sent, s => s is ("group:team-blue", nameof(IChatClient.UserJoined), GroupPresence { User: "carol" }));
        Assert.Equal(["carol"], await _roster.MembersAsync("team-blue"));
    }

    [Theory]
    [InlineData("aXXc")]
    [InlineData("acb")]
    [InlineData("aXc")]
    public async Task JoinGroup_SeveralWildcardsWithoutTheMiddleSegment_ThrowsForbiddenAndJoinsNothing(string group)
    {
        var hub = await HubForAsync("carol", ["a*b*c"]);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.JoinGroup(group));

        Assert.Equal(HubErrors.Forbidden, error.Message);
        Assert.Empty(_groups.Changes);
    }

    [Fact]
    public async Task JoinGroup_SeveralWildcardsWithEverySegmentInOrder_Joins()
    {
        var hub = await HubForAsync("carol", ["a*b*c"]);

        await hub.JoinGroup("aXbYc");

        Assert.Equal(["+aXbYc"], _groups.Changes);
    }

    [Fact]
    public async Task JoinGroup_OverTheCap_ThrowsTooManyGroups()
    {
        var hub = await HubForAsync("carol", ["team-*"]);
        for (var i = 0; i < ChatOptions.DefaultMaximumGroupsPerConnection; i++)
        {
            await hub.JoinGroup($"team-{i}");
        }

        var error = await Assert.ThrowsAsync<HubException>(() => hub.JoinGroup("team-one-more"));

        Assert.Equal(HubErrors.TooManyGroups, error.Message);
    }

    [Fact]
    public async Task SendToGroup_NotAMember_ThrowsNotAMember()
    {
        var hub = await HubForAsync("alice");

        var error = await Assert.ThrowsAsync<HubException>(() => hub.SendToGroup("general", "hi"));

        Assert.Equal(HubErrors.NotAMember, error.Message);
        Assert.Empty(_clients.Sent);
    }

    [Fact]
    public async Task SendToGroup_Member_SendsToTheGroupWithItsName()
    {
        var hub = await HubForAsync("alice");
        await hub.JoinGroup("general");

        await hub.SendToGroup("general", "hi");

        Assert.Contains(_clients.Sent, s => s is ("group:general", nameof(IChatClient.ReceiveMessage), ChatMessage { From: "alice", Group: "general", Text: "hi" }));
    }

    [Fact]
    public async Task LeaveGroup_NotAMember_ThrowsNotAMember()
    {
        var hub = await HubForAsync("alice");

        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => hub.LeaveGroup("general"))).Message);
    }

    [Fact]
    public async Task LeaveGroup_Member_LeavesAndAnnounces()
    {
        var hub = await HubForAsync("alice");
        await hub.JoinGroup("general");

        await hub.LeaveGroup("general");

        Assert.Equal(["+general", "-general"], _groups.Changes);
        Assert.Contains(_clients.Sent, s => s is ("group:general", nameof(IChatClient.UserLeft), GroupPresence { User: "alice" }));
        Assert.Empty(await _roster.MembersAsync("general"));
    }

    [Fact]
    public async Task GetGroupMembers_ListsEachOnlineUserOnce()
    {
        var alice = await HubForAsync("alice");
        var aliceAgain = await HubForAsync("alice");
        var bob = await HubForAsync("bob", ["general"]);
        await alice.JoinGroup("general");
        await aliceAgain.JoinGroup("general");
        await bob.JoinGroup("general");

        Assert.Equal(["alice", "bob"], await bob.GetGroupMembers("general"));
    }

    [Fact]
    public async Task GetGroupMembers_NotAMember_ThrowsNotAMember()
    {
        var bob = await HubForAsync("bob", ["general"]);

        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => bob.GetGroupMembers("general"))).Message);
    }

    [Fact]
    public async Task OnDisconnected_LastConnectionOfTheUser_AnnouncesUserLeft()
    {
        var hub = await HubForAsync("alice");
        await hub.JoinGroup("general");
        await hub.JoinGroup("ops");

        await hub.OnDisconnectedAsync(null);

        Assert.Contains(_clients.Sent, s => s is ("group:general", nameof(IChatClient.UserLeft), GroupPresence { User: "alice" }));
        Assert.Contains(_clients.Sent, s => s is ("group:ops", nameof(IChatClient.UserLeft), GroupPresence { User: "alice" }));
        Assert.Empty(await _roster.MembersAsync("general"));
    }

    [Fact]
    public async Task SendToGroup_Message_IsDeliveredWithTheIdItHasInTheHistory()
    {
        var alice = await HubForAsync("alice");
        await alice.JoinGroup("general");

        await alice.SendToGroup("general", "hi");

        var delivered = Assert.IsType<ChatMessage>(Assert.Single(_clients.Sent, s => s.Method == nameof(IChatClient.ReceiveMessage)).Payload);
        Assert.NotNull(delivered.Id);
        Assert.Equal([delivered], await alice.GetHistory("general", null, null));
    }

    [Fact]
    public async Task GetHistory_NotAMember_ThrowsNotAMember()
    {
        var alice = await HubForAsync("alice");
        var bob = await HubForAsync("bob");
        await alice.JoinGroup("general");
        await alice.SendToGroup("general", "hi");

        var error = await Assert.ThrowsAsync<HubException>(() => bob.GetHistory("general", null, null));

        Assert.Equal(HubErrors.NotAMember, error.Message);
    }

    [Fact]
    public async Task GetHistory_BroadcastChannel_IsReadableByEveryAuthenticatedUser()
    {
        var alice = await HubForAsync("alice");
        var bob = await HubForAsync("bob", ["general"]);
        await alice.Broadcast("to all");

        Assert.Equal("to all", Assert.Single(await bob.GetHistory(null, null, null)).Text);
        Assert.Equal("to all", Assert.Single(await bob.GetHistory("", null, 1)).Text);
    }

    [Fact]
    public async Task GetHistory_NoLimitOrAnOversizedOne_ReturnsThePageSizeOrTheHistoryLength()
    {
        var alice = await HubForAsync("alice");
        for (var i = 0; i < ChatOptions.DefaultHistoryLength + 5; i++)
        {
            await alice.Broadcast($"m{i}");
        }

        var page = await alice.GetHistory(null, null, null);
        var capped = await alice.GetHistory(null, null, int.MaxValue);

        Assert.Equal(ChatOptions.DefaultHistoryPageSize, page.Count);
        Assert.Equal($"m{ChatOptions.DefaultHistoryLength + 4}", page[^1].Text);
        Assert.Equal(ChatOptions.DefaultHistoryLength, capped.Count);
        Assert.Equal("m5", capped[0].Text);
    }

    [Theory]
    [InlineData("1-0\n", 10)]
    [InlineData("1-0\r\n", 10)]
    [InlineData("x", 10)]
    [InlineData(null, 0)]
    [InlineData(null, -1)]
    public async Task GetHistory_MalformedIdOrLimit_ThrowsInvalidMessage(string? beforeId, int limit)
    {
        var alice = await HubForAsync("alice");

        var error = await Assert.ThrowsAsync<HubException>(() => alice.GetHistory(null, beforeId, limit));

        Assert.Equal(HubErrors.InvalidMessage, error.Message);
    }

    [Fact]
    public async Task RejoinGroup_SinceTheLastDeliveredId_JoinsAndReturnsTheMissedInOrder()
    {
        // Arrange
        var alice = await HubForAsync("alice");
        var bob = await HubForAsync("bob");
        await alice.JoinGroup("general");
        await bob.JoinGroup("general");
        await bob.SendToGroup("general", "seen");
        var last = (await alice.GetHistory("general", null, 1))[0].Id;
        await alice.OnDisconnectedAsync(null);
        for (var i = 0; i < 20; i++)
        {
            await bob.SendToGroup("general", $"missed {i}");
        }

        var aliceAgain = await HubForAsync("alice");

        // Act
        var recovery = await aliceAgain.RejoinGroup("general", last);

        // Assert
        Assert.True(recovery.Recovered);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"missed {i}"), recovery.Messages.Select(m => m.Text));
        Assert.Equal(["alice", "bob"], await aliceAgain.GetGroupMembers("general"));
    }

    [Fact]
    public async Task RejoinGroup_GapOlderThanTheHistory_SaysNotRecovered()
    {
        var alice = await HubForAsync("alice");
        await alice.Broadcast("seen");
        var last = (await alice.GetHistory(null, null, 1))[0].Id;
        for (var i = 0; i < ChatOptions.DefaultHistoryLength + 1; i++)
        {
            await alice.Broadcast($"m{i}");
        }

        var recovery = await alice.RejoinGroup(null, last);

        Assert.False(recovery.Recovered);
        Assert.Equal(ChatOptions.DefaultHistoryLength, recovery.Messages.Count);
    }

    [Fact]
    public async Task RejoinGroup_MalformedSinceId_ThrowsInvalidMessageAndJoinsNothing()
    {
        var alice = await HubForAsync("alice");

        var error = await Assert.ThrowsAsync<HubException>(() => alice.RejoinGroup("general", "1-0\n"));

        Assert.Equal(HubErrors.InvalidMessage, error.Message);
        Assert.Empty(_groups.Changes);
    }

    public void Dispose() => _testbed.Dispose();

    private async Task<ChatHub> HubForAsync(string user, string[]? groups = null)
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, user, groups);
        return new ChatHub(_roster, _history, Options.Create(new ChatOptions()), _testbed.Time, NullLogger<ChatHub>.Instance)
        {
            Context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId),
            Clients = _clients,
            Groups = _groups,
        };
    }
}
