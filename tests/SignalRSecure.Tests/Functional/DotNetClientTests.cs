using Microsoft.Extensions.Logging;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class DotNetClientTests
{
    private static readonly TimeSpan Timeout = DotNetClientHarness.Timeout;

    [Fact]
    public async Task ConnectAsync_WithFreshTicket_AuthenticatesAndEchoes()
    {
        await using var server = await SecureServer.StartAsync();
        await using var client = DotNetClientHarness.Create(server, SecureServer.Alice);

        var authentication = await client.ConnectAsync().WaitAsync(Timeout);
        var echo = await client.EchoAsync("hello").WaitAsync(Timeout);

        Assert.Equal("alice", authentication.User);
        Assert.Equal(SecureServer.Alice.Groups, authentication.Groups);
        Assert.Equal(SecureHubState.Authenticated, client.State);
        Assert.Equal(authentication.ExpiresAt, client.SessionExpiresAt);
        Assert.Equal("hello", echo);
    }

    [Fact]
    public async Task ConnectAsync_WithCookieTicketSource_NeverLogsTheTicket()
    {
        // Arrange: every ticket handed to the client is kept, and the client logs everything.
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout);
        var issued = new Recorder<string>();
        var clientLogs = new CapturedLogs();
        using var loggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(clientLogs));
        await using var client = new SecureHubClient(DotNetClientHarness.Options(server), async ct =>
        {
            var ticket = await tickets.GetTicketAsync(ct);
            issued.Add(ticket);
            return ticket;
        }, loggerFactory: loggerFactory);

        // Act
        await client.ConnectAsync().WaitAsync(Timeout);
        await client.EchoAsync("hello").WaitAsync(Timeout);
        await client.StopAsync().WaitAsync(Timeout);

        // Assert
        var ticket = Assert.Single(issued.All);
        Assert.NotEmpty(clientLogs.Records);
        Assert.DoesNotContain(clientLogs.Records.Concat(server.Logs.Records), r => r.ToString().Contains(ticket, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectAsync_TicketBoundToAnOrigin_AuthenticatesOnlyWithThatOriginHeader(bool sendOrigin)
    {
        // Arrange: a ticket issued to the server's own origin, as for its browser page.
        await using var server = await SecureServer.StartAsync();
        var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        using var tickets = new CookieTicketSource(server.BaseAddress, origin);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout);
        var options = new SecureHubClientOptions
        {
            ServerUrl = server.BaseAddress,
            ConfigureWebSocket = sendOrigin ? webSocket => webSocket.SetRequestHeader("Origin", origin) : null,
        };
        await using var client = new SecureHubClient(options, tickets.GetTicketAsync);

        // Act
        var connecting = client.ConnectAsync().WaitAsync(Timeout);

        // Assert
        if (sendOrigin)
        {
            Assert.Equal("alice", (await connecting).User);
        }
        else
        {
            await Assert.ThrowsAsync<AuthenticationFailedException>(() => connecting);
        }
    }

    [Fact]
    public async Task BroadcastAsync_FromAlice_ReachesBobAndAlice()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        await using var alice = await DotNetClientHarness.ConnectAsync(server, SecureServer.Alice);
        await using var bob = await DotNetClientHarness.ConnectAsync(server, SecureServer.Bob);
        var aliceReceived = new Recorder<ChatMessage>();
        var bobReceived = new Recorder<ChatMessage>();
        alice.MessageReceived += aliceReceived.Handler;
        bob.MessageReceived += bobReceived.Handler;

        // Act
        await alice.BroadcastAsync("hello everyone").WaitAsync(Timeout);
        var atBob = await bobReceived.NextAsync();
        var atAlice = await aliceReceived.NextAsync();

        // Assert
        Assert.Equal(("alice", "hello everyone", (string?)null), (atBob.From, atBob.Text, atBob.Group));
        Assert.Equal(atBob with { }, atAlice);
    }

    [Fact]
    public async Task Groups_JoinSendListLeave_ReachOnlyMembersWithPresence()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        await using var alice = await DotNetClientHarness.ConnectAsync(server, SecureServer.Alice);
        await using var bob = await DotNetClientHarness.ConnectAsync(server, SecureServer.Bob);
        var joined = new Recorder<GroupPresence>();
        var left = new Recorder<GroupPresence>();
        var aliceReceived = new Recorder<ChatMessage>();
        alice.UserJoined += joined.Handler;
        alice.UserLeft += left.Handler;
        alice.MessageReceived += aliceReceived.Handler;
        await alice.JoinGroupAsync("general").WaitAsync(Timeout);

        // Act
        await bob.JoinGroupAsync("general").WaitAsync(Timeout);
        var bobJoined = await joined.NextAsync(p => p.User == "bob");
        var members = await bob.GetGroupMembersAsync("general").WaitAsync(Timeout);
        await bob.SendToGroupAsync("general", "hi general").WaitAsync(Timeout);
        var message = await aliceReceived.NextAsync();
        await bob.LeaveGroupAsync("general").WaitAsync(Timeout);
        var bobLeft = await left.NextAsync();

        // Assert
        Assert.Equal(new GroupPresence("general", "bob"), bobJoined);
        Assert.Equal(["alice", "bob"], members.Order(StringComparer.Ordinal));
        Assert.Equal(("bob", "hi general", "general"), (message.From, message.Text, message.Group));
        Assert.Equal(new GroupPresence("general", "bob"), bobLeft);
        Assert.Equal(["general"], alice.JoinedGroups);
        Assert.Empty(bob.JoinedGroups);
    }

    [Fact]
    public async Task Groups_NotAllowedOrNotJoined_FailWithTheExactHubError()
    {
        await using var server = await SecureServer.StartAsync();
        await using var bob = await DotNetClientHarness.ConnectAsync(server, SecureServer.Bob);

        var forbidden = await Assert.ThrowsAsync<HubErrorException>(() => bob.JoinGroupAsync("ops").WaitAsync(Timeout));
        var notMemberSend = await Assert.ThrowsAsync<HubErrorException>(() => bob.SendToGroupAsync("general", "hi").WaitAsync(Timeout));
        var notMemberList = await Assert.ThrowsAsync<HubErrorException>(() => bob.GetGroupMembersAsync("general").WaitAsync(Timeout));
        var notMemberLeave = await Assert.ThrowsAsync<HubErrorException>(() => bob.LeaveGroupAsync("general").WaitAsync(Timeout));
        var invalid = await Assert.ThrowsAsync<HubErrorException>(() => bob.JoinGroupAsync("no spaces").WaitAsync(Timeout));

        Assert.Equal((HubErrors.Forbidden, nameof(IChatHub.JoinGroup)), (forbidden.Error, forbidden.MethodName));
        Assert.Equal(HubErrors.NotAMember, notMemberSend.Error);
        Assert.Equal(HubErrors.NotAMember, notMemberList.Error);
        Assert.Equal(HubErrors.NotAMember, notMemberLeave.Error);
        Assert.Equal(HubErrors.InvalidGroup, invalid.Error);
        Assert.Empty(bob.JoinedGroups);
        Assert.Equal("still here", await bob.EchoAsync("still here").WaitAsync(Timeout));
    }

    [Fact]
    public async Task ConnectAsync_WithBadTicket_ThrowsAuthenticationFailedAndNeverReconnects()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        var requests = 0;
        await using var client = new SecureHubClient(DotNetClientHarness.Options(server), _ =>
        {
            Interlocked.Increment(ref requests);
            return Task.FromResult("not-a-ticket");
        });
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;

        // Act
        var error = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.ConnectAsync().WaitAsync(Timeout));
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);
        var later = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.EchoAsync("x").WaitAsync(Timeout));

        // Assert
        Assert.True(error.IsTerminal);
        Assert.True(later.IsTerminal);
        Assert.Equal(CloseReasons.AuthenticationFailed, closed.Reason);
        Assert.Equal(1, requests);
        Assert.Single(server.Logs.WithEvent("ConnectionOpened"));
        Assert.DoesNotContain(states.All, s => s.State == SecureHubState.Reconnecting);
        Assert.DoesNotContain("not-a-ticket", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_WhileConnected_ClosesWithLoggedOutAndStops()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password, keepCredentials: true).WaitAsync(Timeout);
        await using var client = new SecureHubClient(DotNetClientHarness.Options(server), tickets.GetTicketAsync);
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);

        // Act
        await tickets.SignOutAsync().WaitAsync(Timeout);
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);
        var later = await Assert.ThrowsAsync<SecureHubClosedException>(() => client.EchoAsync("x").WaitAsync(Timeout));

        // Assert
        Assert.Equal(CloseReasons.LoggedOut, closed.Reason);
        Assert.True(Assert.IsType<SecureHubClosedException>(closed.Error).IsTerminal);
        Assert.Equal((CloseReasons.LoggedOut, true), (later.Reason, later.IsTerminal));
        Assert.DoesNotContain(states.All, s => s.State == SecureHubState.Reconnecting);
        Assert.Single(server.Logs.WithEvent("ConnectionOpened"));
    }

    [Fact]
    public async Task Revoke_WhileConnected_ClosesWithRevokedAndStops()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        await using var client = DotNetClientHarness.Create(server, SecureServer.Alice);
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        using var issuer = server.CreateAuthClient();

        // Act
        using var revoked = await issuer.RevokeAsync("alice").WaitAsync(Timeout);
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);

        // Assert
        Assert.True(revoked.IsSuccessStatusCode);
        Assert.Equal(CloseReasons.Revoked, closed.Reason);
        Assert.True(Assert.IsType<SecureHubClosedException>(closed.Error).IsTerminal);
        Assert.DoesNotContain(states.All, s => s.State == SecureHubState.Reconnecting);
        Assert.Equal(SecureHubState.Closed, client.State);
    }

    [Fact]
    public async Task Session_WithShortLifetime_IsRenewedPastItsFirstExpiryOnTheSameConnection()
    {
        // Arrange: three-second sessions; the client renews each when a third of it is left.
        var lifetime = TimeSpan.FromSeconds(3);
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:SessionLifetime"] = lifetime.ToString(),
        });
        using var tickets = new CookieTicketSource(server.BaseAddress);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout);
        await using var client = new SecureHubClient(DotNetClientHarness.Options(server), tickets.GetTicketAsync);
        var states = new Recorder<SecureHubStateChange>();
        var renewals = new Recorder<ReauthenticateResult>();
        client.StateChanged += states.Handler;
        client.Reauthenticated += renewals.Handler;
        var authentication = await client.ConnectAsync().WaitAsync(Timeout);

        // Act: wait for the second renewal, which the server grants after the first session would have ended.
        await renewals.NextAsync();
        var second = await renewals.NextAsync();
        var echo = await client.EchoAsync("still connected").WaitAsync(Timeout);

        // Assert
        Assert.True(second.ExpiresAt - lifetime > authentication.ExpiresAt);
        Assert.Equal("still connected", echo);
        Assert.Equal(SecureHubState.Authenticated, client.State);
        Assert.DoesNotContain(states.All, s => s.State == SecureHubState.Reconnecting);
        Assert.Single(server.Logs.WithEvent("ConnectionOpened"));
        Assert.Single(server.Logs.WithEvent("Authenticated"));
        Assert.True(server.Logs.WithEvent("Reauthenticated").Count() >= 2);
        Assert.DoesNotContain(server.Logs.WithEvent("ConnectionClosed"), r => r.Message.Contains(CloseReasons.SessionExpired, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerRestart_OnSamePort_ReconnectsWithFreshTicketReauthenticatesAndRejoins()
    {
        // Arrange: alice in "general", with credentials kept so that she can sign in to the restarted server.
        var first = await SecureServer.StartAsync();
        var firstStopped = false;
        try
        {
            var port = first.BaseAddress.Port;
            using var tickets = new CookieTicketSource(first.BaseAddress);
            await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password, keepCredentials: true).WaitAsync(Timeout);
            var ticketRequests = 0;
            await using var client = new SecureHubClient(DotNetClientHarness.Options(first), ct =>
            {
                Interlocked.Increment(ref ticketRequests);
                return tickets.GetTicketAsync(ct);
            });
            var states = new Recorder<SecureHubStateChange>();
            client.StateChanged += states.Handler;
            await client.ConnectAsync().WaitAsync(Timeout);
            await client.JoinGroupAsync("general").WaitAsync(Timeout);

            // Act: stop the server, call while the client is reconnecting, then start a new server on the same port.
            firstStopped = true;
            await first.DisposeAsync();
            await states.NextAsync(s => s.State == SecureHubState.Reconnecting);
            var echoDuringReconnect = client.EchoAsync("sent while reconnecting");
            await using var second = await SecureServer.StartAsync(url: $"http://127.0.0.1:{port}");
            var echoed = await echoDuringReconnect.WaitAsync(Timeout);
            await using var bob = await DotNetClientHarness.ConnectAsync(second, SecureServer.Bob);
            await bob.JoinGroupAsync("general").WaitAsync(Timeout);
            var members = await bob.GetGroupMembersAsync("general").WaitAsync(Timeout);

            // Assert: the held call went out after Authenticate, never before it.
            Assert.Equal("sent while reconnecting", echoed);
            Assert.Contains("alice", members);
            Assert.Equal(["general"], client.JoinedGroups);
            Assert.True(ticketRequests >= 2);
            Assert.Empty(second.Logs.WithEvent("PreAuthenticationViolation"));
            Assert.Empty(second.Logs.WithEvent("AuthenticationFailed"));
            Assert.Contains(second.Logs.WithEvent("Authenticated"), r => r.Message.Contains("alice", StringComparison.Ordinal));
            Assert.Equal(SecureHubState.Authenticated, client.State);
        }
        finally
        {
            if (!firstStopped)
            {
                await first.DisposeAsync();
            }
        }
    }
}
