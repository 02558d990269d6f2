using System.Diagnostics;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The hub base every gated hub derives from: Authenticate and Reauthenticate as the contract says, the caller's
/// identity, the traces of both, and the close that waits for the reply of the call that asked for it.
/// </summary>
public sealed class SecureHubTests : IDisposable
{
    private readonly GateTestbed _testbed = new();
    private readonly ActivityListener _listener;
    private readonly List<Activity> _activities = [];

    public SecureHubTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SecureHubTracing.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (_activities)
                {
                    _activities.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task Authenticate_ValidTicket_ReturnsTheTicketsUserAndTracesOk()
    {
        var connection = _testbed.Open();
        var hub = HubFor(connection);
        Assert.True(connection.Gate.TryBeginAuthentication());

        var result = await hub.Authenticate(await _testbed.IssueAsync("alice", ["general"])).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("alice", result.User);
        Assert.Equal(["general"], result.Groups);
        Assert.True(connection.Gate.IsAuthenticated);
        Assert.Equal("alice", hub.Current.Name);
        var activity = ActivityOf(connection, "signalrsecure.authenticate");
        Assert.Equal("alice", activity.GetTagItem("user.name"));
        Assert.Equal("127.0.0.1", activity.GetTagItem("client.address"));
        Assert.Equal("ok", activity.GetTagItem(SecureHubTracing.OutcomeTag));
        Assert.NotEqual(ActivityStatusCode.Error, activity.Status);
    }

    [Fact]
    public async Task Authenticate_UnknownTicket_FailsTheCallAndTracesTheError()
    {
        var connection = _testbed.Open();
        var hub = HubFor(connection);
        Assert.True(connection.Gate.TryBeginAuthentication());

        var error = await Assert.ThrowsAsync<HubException>(() => hub.Authenticate("not-a-ticket").WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.False(connection.Gate.IsAuthenticated);
        var activity = ActivityOf(connection, "signalrsecure.authenticate");
        Assert.Equal(HubErrors.AuthenticationFailed, activity.GetTagItem(SecureHubTracing.OutcomeTag));
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Null(activity.GetTagItem("user.name"));
    }

    [Fact]
    public async Task Authenticate_Twice_FailsWithAlreadyAuthenticated()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var hub = HubFor(connection);
        var ticket = await _testbed.IssueAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.Authenticate(ticket).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(HubErrors.AlreadyAuthenticated, error.Message);
        Assert.True(connection.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Reauthenticate_FreshTicketOfTheSameUser_ExtendsTheSessionAndTracesOk()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, "alice");
        var hub = HubFor(connection);
        var before = connection.Gate.SessionExpiresAt;
        _testbed.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await hub.Reauthenticate(await _testbed.IssueAsync("alice")).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(before + TimeSpan.FromMinutes(1), result.ExpiresAt);
        Assert.Equal(result.ExpiresAt, connection.Gate.SessionExpiresAt);
        var activity = ActivityOf(connection, "signalrsecure.reauthenticate");
        Assert.Equal("alice", activity.GetTagItem("user.name"));
        Assert.Equal("ok", activity.GetTagItem(SecureHubTracing.OutcomeTag));
    }

    [Fact]
    public async Task Reauthenticate_AnotherUsersTicket_FailsAndTracesTheError()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, "alice");
        var hub = HubFor(connection);

        var error = await Assert.ThrowsAsync<HubException>(async () => await hub.Reauthenticate(await _testbed.IssueAsync("bob")).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        var activity = ActivityOf(connection, "signalrsecure.reauthenticate");
        Assert.Equal(HubErrors.AuthenticationFailed, activity.GetTagItem(SecureHubTracing.OutcomeTag));
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
    }

    [Fact]
    public void CurrentUser_BeforeAuthenticate_ThrowsAuthenticationRequired()
    {
        var connection = _testbed.Open();
        var hub = HubFor(connection);

        var error = Assert.Throws<HubException>(() => hub.Current);
        var known = hub.TryGetCurrent(out var user);

        Assert.Equal(HubErrors.AuthenticationRequired, error.Message);
        Assert.False(known);
        Assert.Null(user);
    }

    [Fact]
    public async Task TryGetCurrentUser_Authenticated_IsTheTicketsUser()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, "carol", ["ops"]);
        var hub = HubFor(connection);

        var known = hub.TryGetCurrent(out var user);

        Assert.True(known);
        Assert.Equal("carol", user!.Name);
        Assert.Equal(["ops"], user.Groups);
        Assert.Same(user, hub.Current);
    }

    [Fact]
    public async Task Authenticate_HubNotMappedWithTheGate_ThrowsInvalidOperation()
    {
        var connection = _testbed.Open();
        var context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId);
        context.Features.Set<IConnectionUserFeature>(null);
        var hub = new ProbeHub { Context = context };

        var authenticate = await Assert.ThrowsAsync<InvalidOperationException>(() => hub.Authenticate("ticket"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => hub.Reauthenticate("ticket"));

        Assert.Contains(nameof(ProbeHub), authenticate.Message, StringComparison.Ordinal);
        Assert.Throws<HubException>(() => hub.Current);
        hub.Dispose();
    }

    [Fact]
    public async Task Dispose_AfterTheCallThatClosesTheConnection_LetsTheCloseGoAfterItsReply()
    {
        // Arrange: a failed Authenticate asks for a close once its reply is written.
        var connection = _testbed.Open();
        var hub = HubFor(connection);
        Assert.True(connection.Gate.TryBeginAuthentication());
        await Assert.ThrowsAsync<HubException>(() => hub.Authenticate("not-a-ticket").WaitAsync(TimeSpan.FromSeconds(10)));
        var replyWritten = connection.Gate.ReplyWritten;
        var writtenBeforeTheHubWasReleased = replyWritten.IsCompleted;

        // Act: SignalR releases the hub after writing the reply.
        hub.Dispose();

        // Assert
        Assert.False(writtenBeforeTheHubWasReleased);
        await replyWritten.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _testbed.Dispose();
    }

    private static ProbeHub HubFor(TestConnection connection) =>
        new() { Context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId) };

    private Activity ActivityOf(TestConnection connection, string name)
    {
        lock (_activities)
        {
            return Assert.Single(_activities, activity =>
                activity.OperationName == name && Equals(activity.GetTagItem("signalr.connection.id"), connection.Context.ConnectionId));
        }
    }

    /// <summary>A gated hub with nothing of its own, that shows what its base gives derived hubs.</summary>
    private sealed class ProbeHub : SecureHub<IChatClient>
    {
        public AuthenticatedUser Current => CurrentUser;

        public bool TryGetCurrent(out AuthenticatedUser? user) => TryGetCurrentUser(out user);
    }
}
