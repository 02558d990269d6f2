using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// Two or three real chat server nodes in this process, each with <c>SignalRSecure:Redis:Configuration</c> pointing at
/// one real redis-server and the same issuer key: tickets, sessions and messages cross nodes, and nothing reaches a
/// connection that has not authenticated, on any node.
/// </summary>
public sealed class ClusterTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Ticket_MintedOnOneNode_IsRedeemedOnceOnAnother()
    {
        // Arrange
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        var ticket = await nodeA.GetTicketAsync(SecureServer.Alice);
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(nodeB.WebSocketHubUri);
        await using var second = await RawHubSocket.ConnectWithHandshakeAsync(nodeA.WebSocketHubUri);

        // Act
        var (_, firstError) = await first.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var (_, secondError) = await second.CallAsync(nameof(IChatHub.Authenticate), ticket);

        // Assert
        Assert.Null(firstError);
        Assert.True(HubErrors.TryParse(secondError, out var parsed));
        Assert.Equal(HubErrors.AuthenticationFailed, parsed);
    }

    [Fact]
    public async Task Authenticate_OnRedis_TakesTwoScriptRoundTrips()
    {
        // Arrange: heartbeats far apart, so that only the Authenticate runs scripts; a first connection has subscribed
        // the node to what every later one shares.
        var settings = new Dictionary<string, string?> { ["SignalRSecure:Redis:NodeTimeout"] = "00:05:00" };
        await using var node = await StartNodeAsync(RedisFixture.UniquePrefix(), settings);
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        Assert.Null((await first.CallAsync(nameof(IChatHub.Authenticate), await node.GetTicketAsync(SecureServer.Bob))).Error);
        var ticket = await node.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        var before = await redis.Server.ScriptCallsAsync();

        // Act
        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var after = await redis.Server.ScriptCallsAsync();

        // Assert: one for the lockout and the ticket together, one for the user's connection count.
        Assert.Null(error);
        Assert.Equal(2, after - before);
    }

    [Fact]
    public async Task Ticket_FiftyRedemptionsOverThreeNodes_ExactlyOneWins()
    {
        // Arrange
        var prefix = RedisFixture.UniquePrefix();
        var settings = new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "60",
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "100",
        };
        await using var nodeA = await StartNodeAsync(prefix, settings);
        await using var nodeB = await StartNodeAsync(prefix, settings);
        await using var nodeC = await StartNodeAsync(prefix, settings);
        SecureServer[] nodes = [nodeA, nodeB, nodeC];
        var ticket = await nodeA.GetTicketAsync(SecureServer.Alice);
        var sockets = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => RawHubSocket.ConnectWithHandshakeAsync(nodes[i % 3].WebSocketHubUri)));
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = sockets.Select(async socket =>
            {
                await start.Task;

                // Every refused one gets its reply before the close message (CallAsync throws on a close first).
                return (await socket.CallAsync(nameof(IChatHub.Authenticate), ticket)).Error;
            }).ToArray();

            // Act
            start.SetResult();
            var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(30));

            // Assert
            Assert.Equal(1, results.Count(error => error is null));
            Assert.Equal(49, results.Count(error => HubErrors.TryParse(error, out var e) && e == HubErrors.AuthenticationFailed));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Messages_BroadcastGroupAndUser_CrossNodesBothWays()
    {
        // Arrange: alice on A, bob on B, both in "general".
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        await using var alice = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var bob = await AuthenticatedAsync(nodeB, SecureServer.Bob);
        await CallOkAsync(alice, nameof(IChatHub.JoinGroup), "general");
        await CallOkAsync(bob, nameof(IChatHub.JoinGroup), "general");

        // Act and assert: each kind of message, from each side.
        await CallOkAsync(alice, nameof(IChatHub.Broadcast), "all from A");
        Assert.Equal("all from A", await NextTextAsync(bob));
        await CallOkAsync(bob, nameof(IChatHub.Broadcast), "all from B");
        Assert.Equal("all from B", await NextTextAsync(alice, skip: "all from A"));

        await CallOkAsync(alice, nameof(IChatHub.SendToGroup), "general", "group from A");
        Assert.Equal("group from A", await NextTextAsync(bob, skip: "all from B"));
        await CallOkAsync(bob, nameof(IChatHub.SendToGroup), "general", "group from B");
        Assert.Equal("group from B", await NextTextAsync(alice, skip: "group from A"));

        await Hub(nodeA).Clients.User(SecureServer.Bob.Name).ReceiveMessage(Message("user from A")).WaitAsync(Timeout);
        Assert.Equal("user from A", await NextTextAsync(bob, skip: "group from B"));
        await Hub(nodeB).Clients.User(SecureServer.Alice.Name).ReceiveMessage(Message("user from B")).WaitAsync(Timeout);
        Assert.Equal("user from B", await NextTextAsync(alice));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServerCode_ToAnUnauthenticatedConnection_ReachesItOnlyAfterItAuthenticates(bool sameNode)
    {
        // Arrange: the listener waits unauthenticated on B; an authenticated probe on B shares its group; the server
        // code runs on A or on B itself.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        var sender = Hub(sameNode ? nodeB : nodeA);
        var listenerTicket = await nodeB.GetTicketAsync(SecureServer.Carol);
        await using var listener = await RawHubSocket.ConnectWithHandshakeAsync(nodeB.WebSocketHubUri);
        var listenerId = ConnectionIdOf((await nodeB.Logs.WaitForAsync(r => r.EventId.Name == "ConnectionOpened", Timeout)).Message);
        await using var probe = await AuthenticatedAsync(nodeB, SecureServer.Bob);
        var probeId = ConnectionIdOf(nodeB.Logs.WithEvent("ConnectionOpened").Last().Message);
        using var abandon = new CancellationTokenSource();

        // Act: to its id, to a group it was added to, to all, and a user's broadcast from either node.
        await sender.Clients.Client(listenerId).ReceiveMessage(Message("to its id")).WaitAsync(Timeout);

        // A scale-out manager waits for the node that owns the connection to acknowledge an addition; no node
        // acknowledges one for a connection it does not deliver to, so that wait is abandoned.
        var listenerAdded = sender.Groups.AddToGroupAsync(listenerId, "server-group", abandon.Token);
        await sender.Groups.AddToGroupAsync(probeId, "server-group").WaitAsync(Timeout);
        await sender.Clients.Group("server-group").ReceiveMessage(Message("to its group")).WaitAsync(Timeout);
        await sender.Clients.All.ReceiveMessage(Message("to all")).WaitAsync(Timeout);
        string?[] probeReceived = [await NextTextAsync(probe), await NextTextAsync(probe)];
        await abandon.CancelAsync();
        _ = listenerAdded.ContinueWith(static added => added.Exception, TaskScheduler.Default);

        var (_, error) = await listener.CallAsync(nameof(IChatHub.Authenticate), listenerTicket);
        var passedOver = listener.PassedOver.Count;
        await sender.Clients.Client(listenerId).ReceiveMessage(Message("after")).WaitAsync(Timeout);
        var first = await NextTextAsync(listener);

        // Assert: the probe got what was sent to the group and to all; the listener got nothing before its
        // Authenticate answer, and the first message after it is the one sent after.
        Assert.Equal(["to all", "to its group"], probeReceived.Order());
        Assert.Null(error);
        Assert.Equal(0, passedOver);
        Assert.Equal("after", first);
    }

    [Fact]
    public async Task Broadcast_WhileConnectionsWaitUnauthenticatedOnEitherNode_ReachesThemOnlyAfterTheyAuthenticate()
    {
        // Arrange: a waiting connection on each node; alice on A and bob on B broadcast while they wait.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        var ticketA = await nodeA.GetTicketAsync(SecureServer.Carol);
        var ticketB = await nodeB.GetTicketAsync(SecureServer.Carol);
        await using var waitingOnA = await RawHubSocket.ConnectWithHandshakeAsync(nodeA.WebSocketHubUri);
        await using var waitingOnB = await RawHubSocket.ConnectWithHandshakeAsync(nodeB.WebSocketHubUri);
        await using var alice = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var bob = await AuthenticatedAsync(nodeB, SecureServer.Bob);

        // Act
        await CallOkAsync(alice, nameof(IChatHub.Broadcast), "from A");
        await CallOkAsync(bob, nameof(IChatHub.Broadcast), "from B");
        Assert.Equal("from A", await NextTextAsync(bob));
        Assert.Equal("from B", await NextTextAsync(alice, skip: "from A"));
        await CallOkAsync(waitingOnA, nameof(IChatHub.Authenticate), ticketA);
        await CallOkAsync(waitingOnB, nameof(IChatHub.Authenticate), ticketB);
        int[] passedOver = [waitingOnA.PassedOver.Count, waitingOnB.PassedOver.Count];
        await CallOkAsync(alice, nameof(IChatHub.Broadcast), "after");

        // Assert
        Assert.Equal([0, 0], passedOver);
        Assert.Equal("after", await NextTextAsync(waitingOnA));
        Assert.Equal("after", await NextTextAsync(waitingOnB));
    }

    [Fact]
    public async Task Session_CookieFromOneNode_MintsTicketsOnAnotherUntilLogoutOnTheFirst()
    {
        // Arrange
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        using var onA = nodeA.CreateAuthClient();
        await onA.LoginAsync(SecureServer.Alice);
        using var onB = nodeB.CreateAuthClient();
        onB.Cookies.Add(onA.Cookies.GetAllCookies());

        // Act
        using var beforeLogout = await onB.TryGetTicketAsync();
        using var logout = await onA.LogoutAsync();
        using var afterLogout = await onB.TryGetTicketAsync();

        // Assert
        Assert.Equal(HttpStatusCode.OK, beforeLogout.StatusCode);
        Assert.True(logout.IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterLogout.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LogoutOrRevocation_OnOneNode_ClosesTheUsersConnectionsOnEveryNodeWithinOneSecond(bool revoke)
    {
        // Arrange: alice's session on A, one connection of hers on each node, and bob's on B.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        using var session = nodeA.CreateAuthClient();
        await session.LoginAsync(SecureServer.Alice);
        await using var onA = await AuthenticatedAsync(nodeA, (await session.GetTicketAsync()).Ticket);
        await using var onB = await AuthenticatedAsync(nodeB, (await session.GetTicketAsync()).Ticket);
        await using var bob = await AuthenticatedAsync(nodeB, SecureServer.Bob);
        var expected = revoke ? CloseReasons.Revoked : CloseReasons.LoggedOut;

        // Act
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = revoke ? await session.RevokeAsync(SecureServer.Alice.Name) : await session.LogoutAsync();
        var closeOnB = await onB.ReceiveCloseAsync().WaitAsync(Timeout);
        var elapsed = watch.Elapsed;
        var closeOnA = await onA.ReceiveCloseAsync().WaitAsync(Timeout);

        // Assert: both closed with the reason, B's within 1 s of the request; bob's connection still answers.
        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(expected, closeOnA.Error);
        Assert.Equal(expected, closeOnB.Error);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"closed on the other node after {elapsed.TotalMilliseconds:F0} ms");
        var (echo, error) = await bob.CallAsync(nameof(IChatHub.Echo), "still here").WaitAsync(Timeout);
        Assert.Null(error);
        Assert.Equal("still here", echo?.GetString());
    }

    [Fact]
    public async Task Reauthenticate_OnOneNode_ChangesTheGroupRightsOfTheUsersConnectionsOnEveryNode()
    {
        // Arrange: dave may join "ops" on B, from a ticket issued for "general" and "ops".
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        using var issuer = nodeA.CreateAuthClient();
        await using var onB = await AuthenticatedAsync(nodeB, await IssueAsync(issuer, "general", "ops"));
        await using var onA = await AuthenticatedAsync(nodeA, await IssueAsync(issuer, "general", "ops"));
        await CallOkAsync(onB, nameof(IChatHub.JoinGroup), "general");

        // Act: a newer ticket without "ops" on A.
        await CallOkAsync(onA, nameof(IChatHub.Reauthenticate), await IssueAsync(issuer, "general"));
        await nodeB.Logs.WaitForAsync(r => r.EventId.Name == "GroupsChanged", Timeout);
        var (_, joinOps) = await onB.CallAsync(nameof(IChatHub.JoinGroup), "ops").WaitAsync(Timeout);

        // Assert
        Assert.NotNull(joinOps);
        Assert.Contains(nodeB.Logs.WithEvent("GroupsChanged"), r => r.Message.Contains("dave", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lockout_TenFailedAuthenticatesSplitOverTwoNodes_LockTheAddressOutOnBoth()
    {
        // Arrange
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);

        // Act: five wrong tickets on each node, one connection each.
        var errors = new List<string?>();
        for (var i = 0; i < 10; i++)
        {
            await using var socket = await RawHubSocket.ConnectWithHandshakeAsync((i % 2 == 0 ? nodeA : nodeB).WebSocketHubUri);
            errors.Add((await socket.CallAsync(nameof(IChatHub.Authenticate), $"wrong-ticket-{i:D2}-0123456789abcdefghijklmnop").WaitAsync(Timeout)).Error);
        }

        var onA = await RawHubSocket.TryConnectAsync(nodeA.WebSocketHubUri);
        var onB = await RawHubSocket.TryConnectAsync(nodeB.WebSocketHubUri);

        // Assert: every attempt failed, and the address is locked out on both nodes (each saw only five failures).
        Assert.All(errors, error => Assert.True(HubErrors.TryParse(error, out var parsed) && parsed == HubErrors.AuthenticationFailed, error));
        Assert.Equal(HttpStatusCode.TooManyRequests, onA);
        Assert.Equal(HttpStatusCode.TooManyRequests, onB);
    }

    [Fact]
    public async Task LoginThrottle_AttemptsForOneUserSplitOverTwoNodes_AreCountedTogether()
    {
        // Arrange: 5 attempts per user name and window.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        using var clientA = nodeA.CreateAuthClient();
        using var clientB = nodeB.CreateAuthClient();

        // Act: five wrong passwords alternating nodes, then the right one.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var attempt = await (i % 2 == 0 ? clientA : clientB).TryLoginAsync(SecureServer.Alice.Name, "wrong-password").WaitAsync(Timeout);
            statuses.Add(attempt.StatusCode);
        }

        using var sixth = await clientB.TryLoginAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout);

        // Assert
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);
        Assert.NotNull(sixth.Headers.RetryAfter);
    }

    [Fact]
    public async Task UserConnectionCap_ConnectionsSplitOverTwoNodes_AreCountedTogether()
    {
        // Arrange: 2 connections per user.
        var prefix = RedisFixture.UniquePrefix();
        var settings = new Dictionary<string, string?> { ["SignalRSecure:Protection:MaxConnectionsPerUser"] = "2" };
        await using var nodeA = await StartNodeAsync(prefix, settings);
        await using var nodeB = await StartNodeAsync(prefix, settings);
        await using var first = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var second = await AuthenticatedAsync(nodeB, SecureServer.Alice);

        // Act
        await using var third = await RawHubSocket.ConnectWithHandshakeAsync(nodeA.WebSocketHubUri);
        var (_, error) = await third.CallAsync(nameof(IChatHub.Authenticate), await nodeA.GetTicketAsync(SecureServer.Alice)).WaitAsync(Timeout);
        await using var bob = await AuthenticatedAsync(nodeA, SecureServer.Bob);

        // Assert
        Assert.True(HubErrors.TryParse(error, out var parsed));
        Assert.Equal(HubErrors.TooManyConnections, parsed);
        Assert.Equal(CloseReasons.TooManyConnections, (await third.ReceiveCloseAsync().WaitAsync(Timeout)).Error);
    }

    [Fact]
    public async Task UserInvocationBudget_CallsSplitOverTwoNodes_ShareOneBudget()
    {
        // Arrange: one user's budget of 4 calls and 1 a second, taken from Redis one call at a time; each connection
        // could make 4 calls on its own.
        var prefix = RedisFixture.UniquePrefix();
        var settings = new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "1",
            ["SignalRSecure:Hub:InvocationBurst"] = "4",
            ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "1",
            ["SignalRSecure:Hub:UserInvocationBurst"] = "4",
            ["SignalRSecure:Redis:UserInvocationLease"] = "1",
        };
        await using var nodeA = await StartNodeAsync(prefix, settings);
        await using var nodeB = await StartNodeAsync(prefix, settings);
        await using var onA = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var onB = await AuthenticatedAsync(nodeB, SecureServer.Alice);

        // Act: four calls on each node.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var accepted = 0;
        foreach (var socket in new[] { onA, onA, onA, onA, onB, onB, onB, onB })
        {
            accepted += (await socket.CallAsync(nameof(IChatHub.Echo), "x").WaitAsync(Timeout)).Error is null ? 1 : 0;
        }

        var elapsed = watch.Elapsed;

        // Assert: the burst plus what refilled meanwhile (one a second), not twice the burst.
        Assert.True(accepted <= 4 + (int)Math.Ceiling(elapsed.TotalSeconds), $"{accepted} of 8 calls accepted in {elapsed.TotalMilliseconds:F0} ms");
        Assert.True(accepted >= 4, $"{accepted} of 8 calls accepted");
    }

    [Fact]
    public async Task Presence_MembersOnTwoNodes_AgreeOnEveryNode()
    {
        // Arrange: alice on A, bob on B.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        await using var alice = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var bob = await AuthenticatedAsync(nodeB, SecureServer.Bob);

        // Act
        await CallOkAsync(alice, nameof(IChatHub.JoinGroup), "general");
        await CallOkAsync(bob, nameof(IChatHub.JoinGroup), "general");
        var joined = await NextPresenceAsync(alice, nameof(IChatClient.UserJoined), SecureServer.Bob.Name);
        var membersOnA = await MembersAsync(alice, "general");
        var membersOnB = await MembersAsync(bob, "general");
        await CallOkAsync(bob, nameof(IChatHub.LeaveGroup), "general");
        var left = await NextPresenceAsync(alice, nameof(IChatClient.UserLeft), SecureServer.Bob.Name);
        var membersAfter = await MembersAsync(alice, "general");

        // Assert
        Assert.Equal(new GroupPresence("general", SecureServer.Bob.Name), joined);
        Assert.Equal(["alice", "bob"], membersOnA);
        Assert.Equal(["alice", "bob"], membersOnB);
        Assert.Equal(new GroupPresence("general", SecureServer.Bob.Name), left);
        Assert.Equal(["alice"], membersAfter);
    }

    [Fact]
    public async Task Reauthenticate_NarrowingGroupsOnOneNode_EndsTheMembershipOnAnother()
    {
        // Arrange: dave on B in "ops", alice on A in "ops"; dave also connected on A.
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix);
        await using var nodeB = await StartNodeAsync(prefix);
        using var issuer = nodeA.CreateAuthClient();
        await using var daveOnB = await AuthenticatedAsync(nodeB, await IssueAsync(issuer, "general", "ops"));
        await using var daveOnA = await AuthenticatedAsync(nodeA, await IssueAsync(issuer, "general", "ops"));
        await using var alice = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await CallOkAsync(daveOnB, nameof(IChatHub.JoinGroup), "ops");
        await CallOkAsync(alice, nameof(IChatHub.JoinGroup), "ops");
        var membersBefore = await MembersAsync(alice, "ops");

        // Act: a newer ticket without "ops" on A.
        await CallOkAsync(daveOnA, nameof(IChatHub.Reauthenticate), await IssueAsync(issuer, "general"));
        var toDave = await NextPresenceAsync(daveOnB, nameof(IChatClient.UserLeft), "dave");
        var toAlice = await NextPresenceAsync(alice, nameof(IChatClient.UserLeft), "dave");
        var membersAfter = await MembersAsync(alice, "ops");

        // Assert
        Assert.Equal(["alice", "dave"], membersBefore);
        Assert.Equal(new GroupPresence("ops", "dave"), toDave);
        Assert.Equal(new GroupPresence("ops", "dave"), toAlice);
        Assert.Equal(["alice"], membersAfter);
    }

    [Fact]
    public async Task Presence_NodeThatStopsHeartbeating_LeavesWithinTheNodeTimeoutAndMembersElsewhereGetUserLeft()
    {
        // Arrange: a node timeout of 2 s; alice on A and bob on B in "general".
        var prefix = RedisFixture.UniquePrefix();
        var nodeTimeout = TimeSpan.FromSeconds(2);
        var settings = new Dictionary<string, string?> { ["SignalRSecure:Redis:NodeTimeout"] = "00:00:02" };
        await using var nodeA = await StartNodeAsync(prefix, settings);
        await using var nodeB = await StartNodeAsync(prefix, settings);
        await using var alice = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var bob = await AuthenticatedAsync(nodeB, SecureServer.Bob);
        await CallOkAsync(alice, nameof(IChatHub.JoinGroup), "general");
        await CallOkAsync(bob, nameof(IChatHub.JoinGroup), "general");
        var membersBefore = await MembersAsync(bob, "general");

        // Act: A stops heartbeating and clears up nothing, which is what kill -9 looks like to the other nodes.
        await nodeA.GetRequiredService<NodeHeartbeat>().StopAsync(CancellationToken.None).WaitAsync(Timeout);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var left = await NextPresenceAsync(bob, nameof(IChatClient.UserLeft), SecureServer.Alice.Name);
        var elapsed = watch.Elapsed;
        var membersAfter = await MembersAsync(bob, "general");
        Console.WriteLine($"UserLeft {elapsed.TotalMilliseconds:F0} ms after the heartbeat of a node with a 2 s timeout stopped");

        // Assert: gone within 7/6 of the timeout after its last heartbeat (which was before the stop), with margin.
        Assert.Equal(["alice", "bob"], membersBefore);
        Assert.Equal(new GroupPresence("general", SecureServer.Alice.Name), left);
        Assert.Equal(["bob"], membersAfter);
        Assert.True(elapsed < nodeTimeout * 2, $"UserLeft {elapsed.TotalMilliseconds:F0} ms after the heartbeat stopped");
        var swept = await nodeB.Logs.WaitForAsync(record => record.EventId.Name == "NodeSwept", Timeout);
        Assert.Contains("1 of its connections", swept.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Presence_ConnectionClosedWhileRedisRefusesScripts_LeavesOnceRedisAnswersAgain()
    {
        // Arrange: a node timeout of 3 s (the heartbeat ticks every 0.5 s); alice on A and bob on B in "general".
        var settings = new Dictionary<string, string?> { ["SignalRSecure:Redis:NodeTimeout"] = "00:00:03" };
        var prefix = RedisFixture.UniquePrefix();
        await using var nodeA = await StartNodeAsync(prefix, settings);
        await using var nodeB = await StartNodeAsync(prefix, settings);
        var alice = await AuthenticatedAsync(nodeA, SecureServer.Alice);
        await using var bob = await AuthenticatedAsync(nodeB, SecureServer.Bob);
        await CallOkAsync(alice, nameof(IChatHub.JoinGroup), "general");
        await CallOkAsync(bob, nameof(IChatHub.JoinGroup), "general");
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var database = admin.GetDatabase();

        // Act: Redis refuses every script (its data intact, unlike a restart) while alice's connection closes, so that
        // node A cannot remove her from the roster.
        await database.ExecuteAsync("ACL", "SETUSER", "default", "-@scripting");
        try
        {
            await alice.DisposeAsync();
            await nodeA.Logs.WaitForAsync(record => record.EventId.Name == "DisconnectCleanupFailed", Timeout);
        }
        finally
        {
            await database.ExecuteAsync("ACL", "SETUSER", "default", "+@all");
        }

        var left = await NextPresenceAsync(bob, nameof(IChatClient.UserLeft), SecureServer.Alice.Name);
        var members = await MembersAsync(bob, "general");

        // Assert: node A's heartbeat removed her once Redis answered, and announced it.
        Assert.Equal(new GroupPresence("general", SecureServer.Alice.Name), left);
        Assert.Equal(["bob"], members);
    }

    private static async Task<string> IssueAsync(AuthClient issuer, params string[] groups)
    {
        using var response = await issuer.IssueTicketAsync(new IssueTicketRequest("dave", groups, ClientIp: "127.0.0.1"));
        response.EnsureSuccessStatusCode();
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<TicketResponse>(response.Content))!.Ticket;
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

    private static IHubContext<ChatHub, IChatClient> Hub(SecureServer node) => node.GetRequiredService<IHubContext<ChatHub, IChatClient>>();

    private static ChatMessage Message(string text) => new("server", text, null, DateTimeOffset.UnixEpoch);

    private static string ConnectionIdOf(string connectionOpenedMessage) => connectionOpenedMessage.Split(' ')[2];

    private static async Task<RawHubSocket> AuthenticatedAsync(SecureServer node, TestUser user) =>
        await AuthenticatedAsync(node, await node.GetTicketAsync(user));

    private static async Task<RawHubSocket> AuthenticatedAsync(SecureServer node, string ticket)
    {
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        await CallOkAsync(socket, nameof(IChatHub.Authenticate), ticket);
        return socket;
    }

    private static async Task CallOkAsync(RawHubSocket socket, string target, params object?[] arguments)
    {
        var (_, error) = await socket.CallAsync(target, arguments).WaitAsync(Timeout);
        Assert.Null(error);
    }

    private static async Task<string[]> MembersAsync(RawHubSocket socket, string group)
    {
        var (result, error) = await socket.CallAsync(nameof(IChatHub.GetGroupMembers), group).WaitAsync(Timeout);
        Assert.Null(error);
        return [.. result!.Value.EnumerateArray().Select(user => user.GetString()!)];
    }

    /// <summary>The next <paramref name="target"/> presence callback about <paramref name="user"/>, passing over any other message.</summary>
    private static async Task<GroupPresence> NextPresenceAsync(RawHubSocket socket, string target, string user)
    {
        while (true)
        {
            JsonElement message;
            if (socket.PassedOver.Count > 0)
            {
                message = socket.PassedOver[0];
                socket.PassedOver.RemoveAt(0);
            }
            else
            {
                message = await socket.ReceiveAsync().WaitAsync(Timeout);
            }

            if (message.GetProperty("type").GetInt32() == 1 && message.GetProperty("target").GetString() == target)
            {
                var presence = message.GetProperty("arguments")[0];
                var found = new GroupPresence(presence.GetProperty("group").GetString()!, presence.GetProperty("user").GetString()!);
                if (found.User == user)
                {
                    return found;
                }
            }
        }
    }

    /// <summary>The text of the next chat message, passing over one copy of <paramref name="skip"/> (the sender's own).</summary>
    private static async Task<string?> NextTextAsync(RawHubSocket socket, string? skip = null)
    {
        while (true)
        {
            JsonElement message;
            if (socket.PassedOver.Count > 0)
            {
                message = socket.PassedOver[0];
                socket.PassedOver.RemoveAt(0);
            }
            else
            {
                message = await socket.ReceiveAsync().WaitAsync(Timeout);
            }

            if (message.GetProperty("type").GetInt32() != 1 || message.GetProperty("target").GetString() != nameof(IChatClient.ReceiveMessage))
            {
                continue;
            }

            var text = message.GetProperty("arguments")[0].GetProperty("text").GetString();
            if (skip is not null && text == skip)
            {
                skip = null;
                continue;
            }

            return text;
        }
    }
}
