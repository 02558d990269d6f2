using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;

namespace SignalRSecure.Tests.Unit;

public sealed class ChatHubTests : IDisposable
{
    private readonly GateTestbed _testbed = new();
    private readonly InMemoryGroupRoster _roster = new();
    private readonly RecordingClients _clients = new();
    private readonly RecordingGroups _groups = new();

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

    public void Dispose() => _testbed.Dispose();

    private async Task<ChatHub> HubForAsync(string user, string[]? groups = null)
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, user, groups);
        return new ChatHub(_roster, Options.Create(new ChatOptions()), _testbed.Time, NullLogger<ChatHub>.Instance)
        {
            Context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId),
            Clients = _clients,
            Groups = _groups,
        };
    }
}
