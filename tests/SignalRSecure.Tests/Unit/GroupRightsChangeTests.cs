using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;

namespace SignalRSecure.Tests.Unit;

/// <summary>A Reauthenticate with a ticket that allows fewer groups ends the memberships it no longer allows, on every connection of the user.</summary>
public sealed class GroupRightsChangeTests : IDisposable
{
    private readonly RosterWithHook _roster = new();
    private readonly RecordingClients _clients = new();
    private readonly RecordingGroups _groups = new();
    private readonly GateTestbed _testbed;
    private readonly InMemoryChatHistory _history;

    public GroupRightsChangeTests()
    {
        _testbed = new GateTestbed(observers: new ChatGroupRightsObserver(_roster, new RecordingHubContext(_clients, _groups)));
        _history = new InMemoryChatHistory(Options.Create(new ChatOptions()), _testbed.Time);
    }

    [Fact]
    public async Task Reauthenticate_NarrowerTicket_EndsTheMembershipOnEveryConnectionOfTheUser()
    {
        var (alice, aliceHub) = await JoinedAsync("alice", ["general", "secret"], "general", "secret");
        var (aliceAgain, aliceAgainHub) = await JoinedAsync("alice", ["general", "secret"], "secret");
        var (bob, bobHub) = await JoinedAsync("bob", ["secret"], "secret");
        _clients.Sent.Clear();

        await _testbed.Keeper.ReauthenticateAsync(alice.Gate, await _testbed.IssueAsync("alice", ["general"]));

        Assert.Equal(["bob"], await _roster.MembersAsync("secret"));
        Assert.Equal(["alice"], await _roster.MembersAsync("general"));
        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => aliceHub.SendToGroup("secret", "hi"))).Message);
        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => aliceAgainHub.GetGroupMembers("secret"))).Message);
        Assert.DoesNotContain(_groups.Current, m => m.Group == "secret" && m.ConnectionId != bob.Context.ConnectionId);
        Assert.Contains((alice.Context.ConnectionId, "general"), _groups.Current);
        Assert.Contains(_clients.Sent, s => IsAliceLeftSecret(s, $"connection:{alice.Context.ConnectionId}"));
        Assert.Contains(_clients.Sent, s => IsAliceLeftSecret(s, $"connection:{aliceAgain.Context.ConnectionId}"));
        Assert.Single(_clients.Sent, s => IsAliceLeftSecret(s, "group:secret"));
        Assert.Equal(["general"], aliceAgain.Gate.Groups);
        Assert.Equal(HubErrors.Forbidden, (await Assert.ThrowsAsync<HubException>(() => aliceAgainHub.JoinGroup("secret"))).Message);
        Assert.Equal(["bob"], await bobHub.GetGroupMembers("secret"));
    }

    [Fact]
    public async Task GetHistory_AfterReauthenticateRemovedTheGroup_ThrowsNotAMember()
    {
        // Arrange
        var (alice, aliceHub) = await JoinedAsync("alice", ["general", "secret"], "general", "secret");
        var (_, aliceAgainHub) = await JoinedAsync("alice", ["general", "secret"], "secret");
        await aliceHub.SendToGroup("secret", "before");
        Assert.Single(await aliceAgainHub.GetHistory("secret", null, null));

        // Act
        await _testbed.Keeper.ReauthenticateAsync(alice.Gate, await _testbed.IssueAsync("alice", ["general"]));

        // Assert
        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => aliceHub.GetHistory("secret", null, null))).Message);
        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => aliceAgainHub.GetHistory("secret", null, null))).Message);
        Assert.Equal(HubErrors.Forbidden, (await Assert.ThrowsAsync<HubException>(() => aliceAgainHub.RejoinGroup("secret", null))).Message);
        Assert.Empty(await aliceHub.GetHistory("general", null, null));
    }

    [Fact]
    public async Task GetHistory_TicketNarrowedButRosterNotYetUpdated_ThrowsNotAMember()
    {
        // Arrange: no observer ends the membership, as while one still runs; the ticket's groups alone must refuse.
        using var testbed = new GateTestbed();
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "alice", ["general", "secret"]);
        var hub = new ChatHub(_roster, _history, Options.Create(new ChatOptions()), testbed.Time, NullLogger<ChatHub>.Instance)
        {
            Context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId),
            Clients = _clients,
            Groups = _groups,
        };
        await hub.JoinGroup("secret");
        await hub.SendToGroup("secret", "before");

        // Act
        await testbed.Registry.UpdateUserGroupsAsync("alice", ["general"], testbed.Time.GetUtcNow());

        // Assert
        Assert.Equal(["alice"], await _roster.MembersAsync("secret"));
        Assert.Equal(HubErrors.NotAMember, (await Assert.ThrowsAsync<HubException>(() => hub.GetHistory("secret", null, null))).Message);
    }

    [Fact]
    public async Task Reauthenticate_SameGroups_ChangesNothing()
    {
        var (alice, _) = await JoinedAsync("alice", ["general", "secret"], "secret");
        _clients.Sent.Clear();

        await _testbed.Keeper.ReauthenticateAsync(alice.Gate, await _testbed.IssueAsync("alice", ["secret", "general"]));

        Assert.Equal(["alice"], await _roster.MembersAsync("secret"));
        Assert.Empty(_clients.Sent);
    }

    [Fact]
    public async Task UpdateGroups_FromATicketOlderThanTheConnections_IsIgnored()
    {
        var olderTicketIssuedAt = _testbed.Time.GetUtcNow();
        _testbed.Time.Advance(TimeSpan.FromSeconds(1));
        var (alice, _) = await JoinedAsync("alice", ["general", "secret"], "secret");

        await _testbed.Registry.UpdateUserGroupsAsync("alice", ["general"], olderTicketIssuedAt);

        Assert.Equal(["alice"], await _roster.MembersAsync("secret"));
        Assert.Equal(["general", "secret"], alice.Gate.Groups);
    }

    [Fact]
    public async Task JoinGroup_RightsNarrowedWhileJoining_IsUndoneAndForbidden()
    {
        var (alice, _) = await JoinedAsync("alice", ["general", "secret"]);
        var hub = HubFor(alice);

        // The rights change runs between the roster join and the SignalR join, as a Reauthenticate on another
        // connection would: its observer sees the roster membership, before the connection is in SignalR's group.
        _roster.AfterJoin = () => _testbed.Registry.UpdateUserGroupsAsync("alice", ["general"], _testbed.Time.GetUtcNow());
        var error = await Assert.ThrowsAsync<HubException>(() => hub.JoinGroup("secret"));

        Assert.Equal(HubErrors.Forbidden, error.Message);
        Assert.Empty(await _roster.MembersAsync("secret"));
        Assert.DoesNotContain((alice.Context.ConnectionId, "secret"), _groups.Current);
        Assert.DoesNotContain(_clients.Sent, s => s.Method == nameof(IChatClient.UserJoined));
    }

    [Fact]
    public async Task UpdateGroups_ObserverFails_ClosesTheConnectionWithSessionExpired()
    {
        using var testbed = new GateTestbed(observers: new ThrowingObserver());
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "alice", ["general", "secret"]);

        await testbed.Keeper.ReauthenticateAsync(connection.Gate, await testbed.IssueAsync("alice", ["general"]));

        Assert.Equal(CloseReasons.SessionExpired, connection.Gate.CloseReason);
    }

    public void Dispose() => _testbed.Dispose();

    private static bool IsAliceLeftSecret((string Audience, string Method, object Payload) sent, string audience) =>
        sent.Audience == audience && sent is (_, nameof(IChatClient.UserLeft), GroupPresence { Group: "secret", User: "alice" });

    private async Task<(TestConnection Connection, ChatHub Hub)> JoinedAsync(string user, string[] allowed, params string[] join)
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, user, allowed);
        var hub = HubFor(connection);
        foreach (var group in join)
        {
            await hub.JoinGroup(group);
        }

        return (connection, hub);
    }

    private ChatHub HubFor(TestConnection connection) => new(_roster, _history, Options.Create(new ChatOptions()), _testbed.Time, NullLogger<ChatHub>.Instance)
    {
        Context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId),
        Clients = _clients,
        Groups = _groups,
    };

    /// <summary>The in-memory roster, with a hook that runs right after a join, to place a race deterministically.</summary>
    private sealed class RosterWithHook : IGroupRoster
    {
        private readonly InMemoryGroupRoster _inner = new();

        public Func<ValueTask<int>>? AfterJoin { get; set; }

        public async ValueTask<IGroupRoster.JoinResult> TryJoinAsync(string connectionId, string user, string group, int maximumGroups, CancellationToken cancellationToken = default)
        {
            var result = await _inner.TryJoinAsync(connectionId, user, group, maximumGroups, cancellationToken);
            var hook = AfterJoin;
            AfterJoin = null;
            if (hook is not null)
            {
                await hook();
            }

            return result;
        }

        public ValueTask<bool> LeaveAsync(string connectionId, string group, CancellationToken cancellationToken = default) =>
            _inner.LeaveAsync(connectionId, group, cancellationToken);

        public ValueTask<bool> IsMemberAsync(string connectionId, string group, CancellationToken cancellationToken = default) =>
            _inner.IsMemberAsync(connectionId, group, cancellationToken);

        public ValueTask<IReadOnlyList<string>> GroupsOfAsync(string connectionId, CancellationToken cancellationToken = default) =>
            _inner.GroupsOfAsync(connectionId, cancellationToken);

        public ValueTask<IReadOnlyList<string>> MembersAsync(string group, CancellationToken cancellationToken = default) =>
            _inner.MembersAsync(group, cancellationToken);

        public ValueTask<IReadOnlyList<string>> RemoveConnectionAsync(string connectionId, CancellationToken cancellationToken = default) =>
            _inner.RemoveConnectionAsync(connectionId, cancellationToken);
    }

    private sealed class ThrowingObserver : IGroupRightsObserver
    {
        public ValueTask OnGroupRightsChangedAsync(ISecureConnection connection, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the roster is down");
    }
}
