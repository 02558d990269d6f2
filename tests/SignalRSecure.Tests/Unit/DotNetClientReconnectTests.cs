using Microsoft.AspNetCore.SignalR.Client;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Functional;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

public sealed class DotNetClientReconnectTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ObservedTimeProvider _time = new();
    private readonly FakeHub _hub;

    public DotNetClientReconnectTests() => _hub = new FakeHub(_time);

    [Fact]
    public async Task RetryableClose_ReconnectsWithFreshTicket_AuthenticatesFirstThenRejoinsGroups()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var (states, first) = await ConnectAsync(client, "general");

        // Act
        first.Drop(FakeHub.CloseError(CloseReasons.SessionExpired));
        var reconnecting = await states.NextAsync(s => s.State == SecureHubState.Reconnecting);
        await states.NextAsync(s => s.State == SecureHubState.Authenticated);
        var second = await _hub.Opened.NextAsync();

        // Assert
        Assert.Equal(CloseReasons.SessionExpired, reconnecting.Reason);
        Assert.Equal(
            [new(nameof(IChatHub.Authenticate), "ticket-2"), new(nameof(IChatHub.JoinGroup), "general")],
            second.Invocations.All.Select(i => (i.Method, i.Argument)));
        Assert.Equal(["general"], client.JoinedGroups);
        Assert.True(first.IsDisposed);
    }

    [Fact]
    public async Task Call_DuringReconnect_WaitsForAuthenticateAndRejoinThenGoesOut()
    {
        // Arrange: the second connection's Authenticate is held until the test releases it.
        await using var client = _hub.CreateClient();
        var (states, first) = await ConnectAsync(client, "general");
        var authenticateGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hub.Answer = async (link, invocation) =>
        {
            if (link != first && invocation.Method == nameof(IChatHub.Authenticate))
            {
                await authenticateGate.Task;
            }

            return await _hub.DefaultAnswerAsync(link, invocation);
        };

        // Act: drop the connection, then call while the new one is authenticating.
        first.Drop(new IOException("connection reset"));
        await states.NextAsync(s => s.State == SecureHubState.Reconnecting);
        var second = await _hub.Opened.NextAsync();
        await second.Invocations.NextAsync(i => i.Method == nameof(IChatHub.Authenticate));
        var echo = client.EchoAsync("queued");
        var send = client.SendToGroupAsync("general", "queued too");
        var heldBack = second.Invocations.All.Select(i => i.Method).ToList();
        var completedEarly = echo.IsCompleted || send.IsCompleted;
        authenticateGate.SetResult();
        var echoed = await echo.WaitAsync(Timeout);
        await send.WaitAsync(Timeout);

        // Assert
        Assert.False(completedEarly);
        Assert.Equal([nameof(IChatHub.Authenticate)], heldBack);
        Assert.Equal("queued", echoed);
        var order = second.Invocations.All.Select(i => i.Method).ToList();
        Assert.Equal([nameof(IChatHub.Authenticate), nameof(IChatHub.JoinGroup)], order.Take(2));
        Assert.Equal(4, order.Count);
        Assert.DoesNotContain(first.Invocations.All, i => i.Method is nameof(IChatHub.Echo) or nameof(IChatHub.SendToGroup));
    }

    [Fact]
    public async Task Call_InFlightWhenConnectionDrops_FailsAsRetryableClose()
    {
        // Arrange: echoes on the first connection never get an answer.
        await using var client = _hub.CreateClient();
        var (states, first) = await ConnectAsync(client);
        var unanswered = new TaskCompletionSource<object?>();
        _hub.Answer = (link, invocation) => link == first && invocation.Method == nameof(IChatHub.Echo)
            ? unanswered.Task
            : _hub.DefaultAnswerAsync(link, invocation);
        var echo = client.EchoAsync("lost");
        await first.Invocations.NextAsync(i => i.Method == nameof(IChatHub.Echo));

        // Act
        first.Drop(new IOException("connection reset"));
        var error = await Assert.ThrowsAsync<SecureHubClosedException>(() => echo.WaitAsync(Timeout));
        await states.NextAsync(s => s.State == SecureHubState.Authenticated && _hub.Opened.All.Count == 2);
        var after = await client.EchoAsync("after").WaitAsync(Timeout);

        // Assert
        Assert.False(error.IsTerminal);
        Assert.Null(error.Reason);
        Assert.Equal("after", after);
    }

    [Theory]
    [InlineData(CloseReasons.LoggedOut)]
    [InlineData(CloseReasons.Revoked)]
    [InlineData(CloseReasons.AuthenticationRequired)]
    [InlineData(CloseReasons.AuthenticationTimeout)]
    public async Task Close_WithTerminalReason_StopsWithoutReconnecting(string reason)
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var (states, link) = await ConnectAsync(client);

        // Act
        link.Drop(FakeHub.CloseError(reason));
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);
        var error = await Assert.ThrowsAsync<SecureHubClosedException>(() => client.EchoAsync("x").WaitAsync(Timeout));

        // Assert
        Assert.Equal(reason, closed.Reason);
        Assert.Equal(reason, error.Reason);
        Assert.True(error.IsTerminal);
        Assert.DoesNotContain(states.All, s => s.State == SecureHubState.Reconnecting);
        Assert.Single(_hub.Opened.All);
        Assert.Equal(SecureHubState.Closed, client.State);
    }

    [Fact]
    public async Task ConnectAsync_TicketRefused_ThrowsAuthenticationFailedAndNeverRetries()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        _hub.Answer = (link, invocation) =>
        {
            link.Drop(FakeHub.CloseError(CloseReasons.AuthenticationFailed));
            return Task.FromException<object?>(FakeHub.HubError(invocation.Method, HubErrors.AuthenticationFailed));
        };

        // Act
        var error = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.ConnectAsync().WaitAsync(Timeout));

        // Assert
        Assert.Equal(CloseReasons.AuthenticationFailed, error.Reason);
        Assert.True(error.IsTerminal);
        Assert.Equal(SecureHubState.Closed, client.State);
        Assert.Single(_hub.Opened.All);
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.EchoAsync("x").WaitAsync(Timeout));
    }

    [Fact]
    public async Task ConnectAsync_AuthenticateUnavailable_ThrowsARetryableClose()
    {
        // Arrange: the server's shared store is down; it answers Authenticate and closes with the same reason.
        await using var client = _hub.CreateClient();
        _hub.Answer = (link, invocation) =>
        {
            link.Drop(FakeHub.CloseError(CloseReasons.Unavailable));
            return Task.FromException<object?>(FakeHub.HubError(invocation.Method, HubErrors.Unavailable));
        };

        // Act
        var error = await Assert.ThrowsAsync<SecureHubClosedException>(() => client.ConnectAsync().WaitAsync(Timeout));

        // Assert
        Assert.Equal(CloseReasons.Unavailable, error.Reason);
        Assert.False(error.IsTerminal);
    }

    [Fact]
    public async Task Reconnect_TicketProviderNotSignedIn_StopsTheClient()
    {
        // Arrange: tickets stop coming once the first connection is up.
        var requests = 0;
        await using var client = _hub.CreateClient(ct => Interlocked.Increment(ref requests) == 1
            ? _hub.IssueTicketAsync(ct)
            : Task.FromException<string>(new AuthRequestException(SecureEndpoints.Ticket, System.Net.HttpStatusCode.Unauthorized, AuthRequestFailure.NotSignedIn)));
        var (states, link) = await ConnectAsync(client);

        // Act
        link.Drop(null);
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);

        // Assert
        var error = Assert.IsType<SecureHubClosedException>(closed.Error);
        Assert.True(error.IsTerminal);
        Assert.Equal(AuthRequestFailure.NotSignedIn, Assert.IsType<AuthRequestException>(error.InnerException).Failure);
        Assert.Equal(2, requests);
        Assert.Single(_hub.Opened.All);
    }

    [Fact]
    public async Task Reconnect_AfterFailedAttempt_WaitsThePolicyDelay()
    {
        // Arrange: the second connection cannot be opened; the third can.
        var options = new SecureHubClientOptions { ServerUrl = new Uri("http://127.0.0.1:9"), ReconnectPolicy = new FixedDelayPolicy(TimeSpan.FromSeconds(5)) };
        await using var client = _hub.CreateClient(options: options);
        var (states, first) = await ConnectAsync(client);
        _hub.Start = (link, _) => _hub.Opened.All.Count == 2
            ? Task.FromException(new System.Net.WebSockets.WebSocketException("server down"))
            : Task.CompletedTask;

        // Act
        first.Drop(null);
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromSeconds(5));
        var beforeDelay = _hub.Opened.All.Count;
        _time.Advance(TimeSpan.FromSeconds(5));
        await _hub.Opened.NextAsync();
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));
        var third = await _hub.Opened.NextAsync();
        await states.NextAsync(s => s.State == SecureHubState.Authenticated);

        // Assert
        Assert.Equal(1, beforeDelay);
        Assert.Equal(3, _hub.Opened.All.Count);
        Assert.Equal("ticket-3", third.Invocations.All[0].Argument);
        Assert.Equal(SecureHubState.Authenticated, client.State);
    }

    [Fact]
    public async Task Reconnect_AuthenticateUnavailable_WaitsThePolicyDelayAndRetriesWithAFreshTicket()
    {
        // Arrange: the second connection's Authenticate finds the server's shared store down; the third's does not.
        var options = new SecureHubClientOptions { ServerUrl = new Uri("http://127.0.0.1:9"), ReconnectPolicy = new FixedDelayPolicy(TimeSpan.FromSeconds(5)) };
        await using var client = _hub.CreateClient(options: options);
        var (states, first) = await ConnectAsync(client);
        _hub.Answer = (link, invocation) => _hub.Opened.All.Count == 2 && invocation.Method == nameof(ISecureHub.Authenticate)
            ? Task.FromException<object?>(FakeHub.HubError(invocation.Method, HubErrors.Unavailable))
            : _hub.DefaultAnswerAsync(link, invocation);

        // Act
        first.Drop(null);
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));
        var second = await _hub.Opened.NextAsync();
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));
        var third = await _hub.Opened.NextAsync();
        await states.NextAsync(s => s.State == SecureHubState.Authenticated);

        // Assert
        Assert.Equal([nameof(ISecureHub.Authenticate)], second.Invocations.All.Select(i => i.Method));
        Assert.Equal("ticket-3", third.Invocations.All[0].Argument);
        Assert.Equal(SecureHubState.Authenticated, client.State);
    }

    [Fact]
    public async Task Reconnect_PolicyGivesUp_ClosesTheClient()
    {
        // Arrange
        var options = new SecureHubClientOptions { ServerUrl = new Uri("http://127.0.0.1:9"), ReconnectPolicy = new GiveUpPolicy() };
        await using var client = _hub.CreateClient(options: options);
        var (states, link) = await ConnectAsync(client);

        // Act
        link.Drop(FakeHub.CloseError(CloseReasons.RateLimited));
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);

        // Assert
        Assert.Equal(CloseReasons.RateLimited, closed.Reason);
        Assert.True(Assert.IsType<SecureHubClosedException>(closed.Error).IsTerminal);
        Assert.Single(_hub.Opened.All);
    }

    [Fact]
    public async Task Rejoin_RefusedForOneGroup_DropsOnlyThatGroup()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var (states, first) = await ConnectAsync(client, "general", "ops");
        _hub.Answer = (link, invocation) => link != first && invocation is { Method: nameof(IChatHub.JoinGroup), Argument: "ops" }
            ? Task.FromException<object?>(FakeHub.HubError(invocation.Method, HubErrors.Forbidden))
            : _hub.DefaultAnswerAsync(link, invocation);

        // Act
        first.Drop(null);
        await states.NextAsync(s => s.State == SecureHubState.Reconnecting);
        await states.NextAsync(s => s.State == SecureHubState.Authenticated);

        // Assert
        Assert.Equal(["general"], client.JoinedGroups);
    }

    [Fact]
    public async Task LeaveGroup_BeforeReconnect_IsNotRejoined()
    {
        await using var client = _hub.CreateClient();
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        await client.JoinGroupAsync("general").WaitAsync(Timeout);
        await client.LeaveGroupAsync("general").WaitAsync(Timeout);
        var first = await _hub.Opened.NextAsync();

        first.Drop(null);
        await states.NextAsync(s => s.State == SecureHubState.Reconnecting);
        await states.NextAsync(s => s.State == SecureHubState.Authenticated);
        var second = await _hub.Opened.NextAsync();

        Assert.Equal([nameof(IChatHub.Authenticate)], second.Invocations.All.Select(i => i.Method));
        Assert.Empty(client.JoinedGroups);
    }

    [Fact]
    public async Task StopAsync_WhileReconnecting_FailsWaitingCallsAndCloses()
    {
        // Arrange: new connections never open.
        await using var client = _hub.CreateClient();
        var (states, first) = await ConnectAsync(client);
        _hub.Start = (_, cancellationToken) => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously).Task.WaitAsync(cancellationToken);
        first.Drop(null);
        await _hub.Opened.NextAsync();
        var waiting = client.EchoAsync("never sent");

        // Act
        await client.StopAsync().WaitAsync(Timeout);
        var error = await Assert.ThrowsAsync<SecureHubClosedException>(() => waiting.WaitAsync(Timeout));
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);

        // Assert
        Assert.True(error.IsTerminal);
        Assert.Null(error.Reason);
        Assert.Null(closed.Error);
        Assert.Equal(SecureHubState.Closed, client.State);
    }

    [Fact]
    public async Task HubError_IsThrownAsHubErrorExceptionWithTheExactError()
    {
        await using var client = _hub.CreateClient();
        await client.ConnectAsync().WaitAsync(Timeout);
        _hub.Answer = (_, invocation) => Task.FromException<object?>(FakeHub.HubError(invocation.Method, HubErrors.MessageTooLong));

        var error = await Assert.ThrowsAsync<HubErrorException>(() => client.EchoAsync("long").WaitAsync(Timeout));

        Assert.Equal(HubErrors.MessageTooLong, error.Error);
        Assert.Equal(nameof(IChatHub.Echo), error.MethodName);
        Assert.Equal(SecureHubState.Authenticated, client.State);
    }

    [Fact]
    public async Task Calls_BeforeConnectAsync_AreRefused()
    {
        await using var client = _hub.CreateClient();

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.EchoAsync("x").WaitAsync(Timeout));
        Assert.Empty(_hub.Opened.All);
    }

    [Fact]
    public async Task ConnectAsync_Twice_IsRefused()
    {
        await using var client = _hub.CreateClient();
        await client.ConnectAsync().WaitAsync(Timeout);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.ConnectAsync().WaitAsync(Timeout));
    }

    private sealed class GiveUpPolicy : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => null;
    }

    /// <summary>Connects <paramref name="client"/> through the fake hub, recording its states, then joins <paramref name="groups"/>.</summary>
    /// <returns>The recorded states and the connection the client opened.</returns>
    [Fact]
    public async Task UserLeft_ForItsOwnUser_DropsTheGroupFromTheOnesToRejoin()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var (_, first) = await ConnectAsync(client, "general", "ops");

        // Act: the server took "ops" away, then someone else left "general".
        await first.Callbacks.UserLeft(new GroupPresence("ops", "alice"));
        await first.Callbacks.UserLeft(new GroupPresence("general", "bob"));

        // Assert
        Assert.Equal(["general"], client.JoinedGroups);
    }

    private async Task<(Recorder<SecureHubStateChange> States, FakeHubLink First)> ConnectAsync(SecureHubClient client, params string[] groups)
    {
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        foreach (var group in groups)
        {
            await client.JoinGroupAsync(group).WaitAsync(Timeout);
        }

        return (states, await _hub.Opened.NextAsync());
    }
}
