using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

public sealed class ConnectionGateTests : IDisposable
{
    private readonly GateTestbed _testbed = new();

    [Fact]
    public async Task Deadline_Passes_ClosesWithAuthenticationTimeout()
    {
        var connection = _testbed.Open();

        _testbed.Time.Advance(SecureHubOptions.DefaultAuthenticationTimeout - TimeSpan.FromMilliseconds(1));
        var closedEarly = connection.HasWritten();
        _testbed.Time.Advance(TimeSpan.FromMilliseconds(1));
        var written = await connection.ReadWrittenAsync();

        Assert.False(closedEarly);
        Assert.Contains("""{"type":7,"error":"authentication timeout"}""", written, StringComparison.Ordinal);
        Assert.Equal(GateState.Closing, connection.Gate.State);
    }

    [Fact]
    public async Task Close_GivesTheConnectionsPlacesUnderTheCapsBack_ItselfAtOnce()
    {
        // Not when the request that carried the connection unwinds, later: a client reconnecting right after its close
        // must not be refused for its own old connection.
        using var testbed = new GateTestbed(protection: new ProtectionOptions { MaxConnectionsPerIp = 1, MaxUnauthenticatedConnectionsPerIp = 1 });
        var connection = testbed.Open();
        var fullWhileOpen = testbed.Admissions.TryAdmit(IPAddress.Loopback) is null;

        await GateTestbed.DisconnectAsync(connection);
        using var next = testbed.Admissions.TryAdmit(IPAddress.Loopback);
        using var oneMore = testbed.Admissions.TryAdmit(IPAddress.Loopback);

        Assert.True(fullWhileOpen);
        Assert.Single(testbed.Logs.WithEvent("ConnectionClosed"));
        Assert.NotNull(next);
        Assert.Null(oneMore);
    }

    [Fact]
    public void CloseAfterReply_HoldsTheReaderUntilTheInvocationHasEnded()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());
        var settled = connection.Gate.AuthenticationSettled;

        // The close message must follow the reply, which SignalR writes after the hub method returns.
        connection.Gate.CloseAfterReply(CloseReasons.AuthenticationFailed);
        var heldUntilTheReply = !settled.IsCompleted;
        connection.Gate.InvocationEnded();

        Assert.True(heldUntilTheReply);
        Assert.True(settled.IsCompleted);
        Assert.Equal(GateState.Closing, connection.Gate.State);
    }

    [Fact]
    public async Task Deadline_DuringHandshake_AbortsTheConnection()
    {
        var connection = _testbed.Open(handshakeDone: false);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Context.ConnectionClosed.Register(() => aborted.TrySetResult());

        _testbed.Time.Advance(SecureHubOptions.DefaultAuthenticationTimeout);

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Deadline_AuthenticateFrameLetThroughButNeverRun_ClosesWithAuthenticationTimeout()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());

        _testbed.Time.Advance(SecureHubOptions.DefaultAuthenticationTimeout);

        Assert.Contains("\"error\":\"authentication timeout\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authenticate_JustBeforeTheDeadline_SucceedsAndCancelsIt()
    {
        var connection = _testbed.Open();
        _testbed.Time.Advance(SecureHubOptions.DefaultAuthenticationTimeout - TimeSpan.FromMilliseconds(1));

        await _testbed.AuthenticateAsync(connection);
        _testbed.Time.Advance(TimeSpan.FromMinutes(59));

        Assert.True(connection.Gate.IsAuthenticated);
        Assert.False(connection.HasWritten());
    }

    [Fact]
    public async Task Authenticate_ValidTicket_ReturnsUserGroupsAndSessionEnd()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());

        var result = await _testbed.Keeper.AuthenticateAsync(connection.Gate, await _testbed.IssueAsync());

        Assert.Equal("alice", result.User);
        Assert.Equal(["general", "ops"], result.Groups);
        Assert.Equal(_testbed.Time.GetUtcNow() + SecureHubOptions.DefaultSessionLifetime, result.ExpiresAt);
    }

    [Fact]
    public async Task Authenticate_ValidTicket_GivesHubCodeTheTicketsIdentity()
    {
        var connection = _testbed.Open();

        await _testbed.AuthenticateAsync(connection);

        Assert.Equal("alice", connection.Hub.UserIdentifier);
        Assert.Equal("alice", connection.Hub.User.Identity?.Name);
        Assert.True(connection.Hub.User.Identity?.IsAuthenticated);
        Assert.Equal(["general", "ops"], connection.Hub.User.FindAll(AuthenticatedUser.GroupClaimType).Select(c => c.Value));
    }

    [Fact]
    public void Attach_DropsAnyIdentityTheTransportBrought()
    {
        var connection = _testbed.Open(handshakeDone: false);
        var mallory = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "mallory")], "Cookies"));
        connection.Context.User = mallory;
        connection.Context.Features.Get<IConnectionUserFeature>()!.User = mallory;
        connection.Hub.UserIdentifier = "mallory";

        connection.Gate.Attach(connection.Hub);

        Assert.Null(connection.Hub.UserIdentifier);
        Assert.False(connection.Hub.User.Identity?.IsAuthenticated);
    }

    [Fact]
    public async Task Authenticate_BadTicket_ThrowsGenericErrorAndClosesAfterTheReply()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());

        var error = await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, "not-a-ticket"));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.Equal(GateState.Closing, connection.Gate.State);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.False(connection.HasWritten());
    }

    [Fact]
    public async Task Authenticate_Again_ThrowsAlreadyAuthenticatedAndKeepsTheSession()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        var error = await Assert.ThrowsAsync<HubException>(async () => await _testbed.Keeper.AuthenticateAsync(connection.Gate, await _testbed.IssueAsync("bob")));

        Assert.Equal(HubErrors.AlreadyAuthenticated, error.Message);
        Assert.Equal("alice", connection.Gate.User);
        Assert.True(connection.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Session_Ends_ClosesWithSessionExpired()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        _testbed.Time.Advance(SecureHubOptions.DefaultSessionLifetime);

        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_TimerFiringEarly_StillClosesAtTheEnd()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        _testbed.Time.NextFiringEarlyBy = TimeSpan.FromMilliseconds(1);

        _testbed.Time.Advance(SecureHubOptions.DefaultSessionLifetime - TimeSpan.FromMilliseconds(1));
        var closedEarly = connection.HasWritten();
        _testbed.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(closedEarly);
        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reauthenticate_FreshTicketOfTheSameUser_ExtendsTheSession()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        _testbed.Time.Advance(TimeSpan.FromMinutes(50));

        var result = await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync());
        _testbed.Time.Advance(TimeSpan.FromMinutes(20));
        var closedAtTheOldEnd = connection.HasWritten();
        _testbed.Time.Advance(TimeSpan.FromMinutes(40));

        Assert.Equal(_testbed.Time.GetUtcNow(), result.ExpiresAt);
        Assert.False(closedAtTheOldEnd);
        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContextUser_FirstReadAtTheHandshake_IsTheTicketsUserAfterAuthenticate()
    {
        // SignalR reads the user once when the handshake completes (for the user id) and keeps that object.
        var connection = _testbed.Open();
        var readAtHandshake = connection.Hub.User;
        var anonymousBefore = readAtHandshake.Identity?.IsAuthenticated;

        await _testbed.AuthenticateAsync(connection);

        Assert.False(anonymousBefore);
        Assert.Same(readAtHandshake, connection.Hub.User);
        Assert.Equal("alice", connection.Hub.User.Identity?.Name);
        Assert.True(connection.Hub.User.HasClaim(AuthenticatedUser.GroupClaimType, "ops"));
        Assert.Throws<NotSupportedException>(() => connection.Hub.User.AddIdentity(new ClaimsIdentity([new Claim(ClaimTypes.Name, "mallory")], "Cookies")));
    }

    [Fact]
    public async Task Reauthenticate_TicketWithOtherGroups_ContextUserCarriesTheNewGroups()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var before = connection.Hub.User.FindAll(AuthenticatedUser.GroupClaimType).Select(c => c.Value).ToArray();

        await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync(groups: ["general"]));

        Assert.Equal(["general", "ops"], before);
        Assert.Equal(["general"], connection.Hub.User.FindAll(AuthenticatedUser.GroupClaimType).Select(c => c.Value));
        Assert.Equal(["general"], connection.Gate.Identity!.Groups);
    }

    [Fact]
    public void AuthenticationSettled_NoAuthenticateInFlight_IsAlreadyComplete()
    {
        var connection = _testbed.Open();

        Assert.True(connection.Gate.AuthenticationSettled.IsCompleted);
    }

    [Fact]
    public async Task AuthenticationSettled_WhileAuthenticating_CompletesWhenAuthenticated()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());
        var settled = connection.Gate.AuthenticationSettled;
        var pendingWhileAuthenticating = !settled.IsCompleted;

        await _testbed.Keeper.AuthenticateAsync(connection.Gate, await _testbed.IssueAsync());

        Assert.True(pendingWhileAuthenticating);
        await settled.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Reauthenticate_AnotherUsersTicket_FailsAndClosesAfterTheReply()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        var error = await Assert.ThrowsAsync<HubException>(async () => await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync("bob")));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.Equal("alice", connection.Gate.User);
    }

    [Fact]
    public async Task Registry_CloseUserConnections_ClosesEveryConnectionOfThatUserOnly()
    {
        var alice1 = _testbed.Open();
        var alice2 = _testbed.Open();
        var bob = _testbed.Open();
        await _testbed.AuthenticateAsync(alice1);
        await _testbed.AuthenticateAsync(alice2);
        await _testbed.AuthenticateAsync(bob, "bob", ["general"]);

        var closed = await _testbed.Registry.CloseUserConnectionsAsync("alice", CloseReasons.LoggedOut);

        Assert.Equal(2, closed);
        Assert.Contains("\"error\":\"logged out\"", await alice1.ReadWrittenAsync(), StringComparison.Ordinal);
        Assert.Contains("\"error\":\"logged out\"", await alice2.ReadWrittenAsync(), StringComparison.Ordinal);
        Assert.False(bob.HasWritten());
    }

    [Fact]
    public async Task Dispose_AuthenticatedConnection_LeavesTheRegistry()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        await connection.Gate.DisposeAsync();

        Assert.Equal(0, await _testbed.Registry.CloseUserConnectionsAsync("alice", CloseReasons.Revoked));
    }

    [Fact]
    public async Task Authenticate_RepeatedFailuresFromOneAddress_LockItOut()
    {
        for (var i = 0; i < 10; i++)
        {
            var connection = _testbed.Open(clientIp: "203.0.113.5");
            Assert.True(connection.Gate.TryBeginAuthentication());
            await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, "wrong"));
        }

        Assert.True(_testbed.Failures.IsLockedOut(System.Net.IPAddress.Parse("203.0.113.5"), out _));
        Assert.False(_testbed.Failures.IsLockedOut(System.Net.IPAddress.Parse("127.0.0.1"), out _));
    }

    [Fact]
    public async Task Metrics_CountPendingAuthenticatedFailedAndTimedOutConnections()
    {
        var totals = new Dictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, _testbed.MeterFactory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();
        var authenticated = _testbed.Open();
        var refused = _testbed.Open();
        _testbed.Open();

        await _testbed.AuthenticateAsync(authenticated);
        Assert.True(refused.Gate.TryBeginAuthentication());
        await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(refused.Gate, "bad"));
        _testbed.Time.Advance(SecureHubOptions.DefaultAuthenticationTimeout);

        Assert.Equal(2, totals["signalrsecure.connections.pending"]);
        Assert.Equal(1, totals["signalrsecure.connections.authenticated"]);
        Assert.Equal(1, totals["signalrsecure.authentication.failures"]);
        Assert.Equal(1, totals["signalrsecure.authentication.timeouts"]);
    }

    public void Dispose() => _testbed.Dispose();
}
