using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// What the reader, the hub filter and the lifetime manager rely on from a gate over its life: the tasks and principals
/// it hands out are one object each (a waiter on the first one is not left behind), the lifetime manager is joined once
/// and never after the connection left, a server-side close wakes a read that waits, and the end lets everything go.
/// </summary>
public sealed class ConnectionGateLifecycleTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly RecordingGroupRightsObserver _rights = new();
    private readonly GateTestbed _testbed;

    public ConnectionGateLifecycleTests() => _testbed = new GateTestbed(observers: _rights);

    [Fact]
    public async Task AuthenticationSettled_ReadTwiceWhileAuthenticating_IsOneTaskThatCompletes()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());
        var first = connection.Gate.AuthenticationSettled;
        var second = connection.Gate.AuthenticationSettled;

        await _testbed.Keeper.AuthenticateAsync(connection.Gate, await _testbed.IssueAsync());

        Assert.Same(first, second);
        Assert.True(first.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ContextUser_ReadTwice_IsTheSamePrincipal()
    {
        var connection = _testbed.Open();
        IConnectionUserFeature feature = connection.Gate;
        var beforeAuthenticate = feature.User;

        await _testbed.AuthenticateAsync(connection);

        Assert.Same(beforeAuthenticate, feature.User);
        Assert.Same(feature.User, feature.User);
    }

    [Fact]
    public async Task CurrentPrincipal_ReadTwice_IsOnePrincipalUntilTheGroupsChange()
    {
        var connection = _testbed.Open();
        var anonymous = connection.Gate.CurrentPrincipal;
        await _testbed.AuthenticateAsync(connection, groups: ["general"]);

        var first = connection.Gate.CurrentPrincipal;
        var second = connection.Gate.CurrentPrincipal;
        await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync(groups: ["general", "ops"]));
        var afterTheChange = connection.Gate.CurrentPrincipal;

        Assert.NotSame(anonymous, first);
        Assert.Same(first, second);
        Assert.NotSame(first, afterTheChange);
        Assert.Same(afterTheChange, connection.Gate.CurrentPrincipal);
        Assert.Equal(["general", "ops"], afterTheChange.FindAll(AuthenticatedUser.GroupClaimType).Select(c => c.Value));
    }

    [Fact]
    public async Task CompleteAuthentication_GivesBackThePlaceUnderTheUnauthenticatedCap()
    {
        using var testbed = new GateTestbed(protection: new ProtectionOptions { MaxConnectionsPerIp = 5, MaxUnauthenticatedConnectionsPerIp = 1 });
        var connection = testbed.Open();
        using var whileWaiting = testbed.Admissions.TryAdmit(IPAddress.Loopback);

        await testbed.AuthenticateAsync(connection);
        using var afterAuthenticate = testbed.Admissions.TryAdmit(IPAddress.Loopback);

        Assert.Null(whileWaiting);
        Assert.NotNull(afterAuthenticate);
    }

    [Fact]
    public async Task JoinLifetimeManager_CalledAgainAfterTheJoin_JoinsOnce()
    {
        var observer = new RecordingGateObserver();
        var connection = Attached(observer);
        await _testbed.AuthenticateAsync(connection);

        await connection.Gate.JoinLifetimeManagerAsync().WaitAsync(Timeout);

        Assert.Equal(1, observer.Joins);
        Assert.Same(Task.CompletedTask, connection.Gate.LeaveLifetimeManager());
    }

    [Fact]
    public async Task JoinLifetimeManager_CalledWhileTheJoinIsInProgress_JoinsOnce()
    {
        // Arrange: the observer's join is held.
        var observer = new RecordingGateObserver { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var connection = Attached(observer);
        var authenticating = _testbed.AuthenticateAsync(connection);
        await observer.Reached.Task.WaitAsync(Timeout);

        // Act
        var again = connection.Gate.JoinLifetimeManagerAsync();
        var againReturnedAtOnce = again.IsCompleted;
        var leaving = connection.Gate.LeaveLifetimeManager();
        var leaveWaitsForTheJoin = leaving is { IsCompleted: false };
        observer.Hold.SetResult();
        await authenticating.WaitAsync(Timeout);
        await leaving!.WaitAsync(Timeout);

        // Assert
        Assert.True(againReturnedAtOnce);
        Assert.True(leaveWaitsForTheJoin);
        Assert.Equal(1, observer.Joins);
    }

    [Fact]
    public async Task JoinLifetimeManager_AfterTheConnectionLeft_DoesNotJoin()
    {
        // The connection left the manager (it is ending) while Authenticate was finishing: a join now would stay forever.
        var observer = new RecordingGateObserver();
        var connection = Attached(observer);
        Assert.True(connection.Gate.TryBeginAuthentication());

        var left = connection.Gate.LeaveLifetimeManager();
        await _testbed.Keeper.AuthenticateAsync(connection.Gate, await _testbed.IssueAsync()).WaitAsync(Timeout);

        Assert.Null(left);
        Assert.Equal(0, observer.Joins);
    }

    [Fact]
    public async Task JoinLifetimeManager_BeforeTheHandshake_DoesNotJoin()
    {
        var connection = _testbed.Open(handshakeDone: false);

        await connection.Gate.JoinLifetimeManagerAsync().WaitAsync(Timeout);

        Assert.Null(connection.Gate.LeaveLifetimeManager());
    }

    [Fact]
    public async Task ExtendSession_ToAnEarlierEnd_ClosesWithSessionExpiredThen()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        connection.Gate.ExtendSession(_testbed.Time.GetUtcNow() + TimeSpan.FromMinutes(5));
        _testbed.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1));
        var closedEarly = connection.Gate.CloseReason is not null;
        _testbed.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(closedEarly);
        Assert.Equal(CloseReasons.SessionExpired, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reauthenticate_WiderGroupSet_TakesTheGroupsAndTellsTheObserver()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, groups: ["general"]);

        await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync(groups: ["general", "ops"]));

        Assert.Equal(["general", "ops"], connection.Gate.Groups);
        Assert.Equal([connection.Context.ConnectionId], _rights.Changed);
    }

    [Fact]
    public async Task Reauthenticate_SameGroupsInAnotherOrder_DoesNotTellTheObserver()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, groups: ["general", "ops"]);
        var principal = connection.Gate.CurrentPrincipal;

        await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync(groups: ["ops", "general"]));

        Assert.Empty(_rights.Changed);
        Assert.Equal(["general", "ops"], connection.Gate.Groups);
        Assert.Same(principal, connection.Gate.CurrentPrincipal);
    }

    [Fact]
    public async Task ReplyWritten_ReadTwiceWhileTheReplyIsPending_IsOneTaskThatCompletesWhenTheInvocationEnds()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        connection.Gate.CloseAfterReply(CloseReasons.LoggedOut);

        var first = connection.Gate.ReplyWritten;
        var second = connection.Gate.ReplyWritten;
        var pendingUntilTheInvocationEnds = !first.IsCompleted;
        connection.Gate.InvocationEnded();

        Assert.Same(first, second);
        Assert.True(pendingUntilTheInvocationEnds);
        Assert.True(first.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ReplyWritten_FirstReadAfterTheInvocationEnded_IsComplete()
    {
        // The reader may come to send the close message only after SignalR released the hub: it must not wait then.
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        connection.Gate.CloseAfterReply(CloseReasons.LoggedOut);

        connection.Gate.InvocationEnded();

        Assert.True(connection.Gate.ReplyWritten.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task InvocationEnded_AfterCloseAfterReply_WakesTheReadThatWaits()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var read = connection.Context.Transport.Input.ReadAsync();
        connection.Gate.CloseAfterReply(CloseReasons.LoggedOut);
        var wokenBeforeTheReply = read.IsCompleted;

        connection.Gate.InvocationEnded();

        Assert.False(wokenBeforeTheReply);
        Assert.True(read.IsCompleted);
        Assert.True((await read.AsTask().WaitAsync(Timeout)).IsCanceled);
    }

    [Fact]
    public async Task InvocationEnded_NotClosing_LeavesTheReadWaiting()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var read = connection.Context.Transport.Input.ReadAsync();

        connection.Gate.InvocationEnded();

        Assert.False(read.IsCompleted);
        Assert.True(connection.Gate.ReplyWritten.IsCompletedSuccessfully);
        Assert.Equal(GateState.Authenticated, connection.Gate.State);
    }

    [Fact]
    public void InvocationEnded_WhileAuthenticating_KeepsHoldingReads()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());
        var settled = connection.Gate.AuthenticationSettled;

        connection.Gate.InvocationEnded();

        Assert.False(settled.IsCompleted);
    }

    [Fact]
    public async Task Close_AfterCloseAfterReply_KeepsTheFirstReasonAndStillWaitsForTheReply()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var read = connection.Context.Transport.Input.ReadAsync();
        connection.Gate.CloseAfterReply(CloseReasons.LoggedOut);

        connection.Gate.Close(CloseReasons.Revoked);

        Assert.Equal(CloseReasons.LoggedOut, connection.Gate.CloseReason);
        Assert.False(connection.HasWritten());
        Assert.False(read.IsCompleted);
        Assert.False(connection.Gate.ReplyWritten.IsCompleted);
    }

    [Fact]
    public async Task DisposeAsync_WhileAReplyIsPending_CompletesTheWaitForIt()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        connection.Gate.CloseAfterReply(CloseReasons.LoggedOut);
        var replyWritten = connection.Gate.ReplyWritten;

        await GateTestbed.DisconnectAsync(connection).WaitAsync(Timeout);

        Assert.True(replyWritten.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task DisposeAsync_WhileAuthenticating_ReleasesTheHeldReads()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());
        var settled = connection.Gate.AuthenticationSettled;

        await GateTestbed.DisconnectAsync(connection).WaitAsync(Timeout);

        Assert.True(settled.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task DisposeAsync_Twice_ReportsTheCloseOnce()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        await GateTestbed.DisconnectAsync(connection).WaitAsync(Timeout);
        await GateTestbed.DisconnectAsync(connection).WaitAsync(Timeout);

        Assert.Single(_testbed.Logs.WithEvent("ConnectionClosed"));
    }

    [Fact]
    public async Task OnDeadline_AfterTheConnectionEnded_DoesNothing()
    {
        // The deadline's callback may be on its way, outside the scheduler's lock, as the connection ends.
        var connection = _testbed.Open();
        await GateTestbed.DisconnectAsync(connection).WaitAsync(Timeout);

        connection.Gate.OnDeadline();

        Assert.Null(connection.Gate.CloseReason);
        Assert.Empty(_testbed.Logs.WithEvent("AuthenticationTimedOut"));
        Assert.False(connection.HasWritten());
    }

    [Fact]
    public async Task OnDeadline_BeforeTheSessionEnds_WaitsForTheEnd()
    {
        // Arrange: the deadline came early (a session extended while its callback was on its way): the scheduler
        // has already taken the gate off its lists when it calls back.
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        _testbed.Time.Advance(TimeSpan.FromMinutes(10));
        var remaining = connection.Gate.SessionExpiresAt - _testbed.Time.GetUtcNow();
        _testbed.Keeper.Deadlines.Cancel(connection.Gate);

        // Act
        connection.Gate.OnDeadline();
        var closedEarly = connection.Gate.CloseReason is not null;
        var rearmed = _testbed.Keeper.Deadlines.Count;
        _testbed.Time.Advance(remaining - TimeSpan.FromMilliseconds(1));
        var closedBeforeTheEnd = connection.Gate.CloseReason is not null;
        _testbed.Time.Advance(TimeSpan.FromMilliseconds(1));

        // Assert
        Assert.False(closedEarly);
        Assert.Equal(1, rearmed);
        Assert.False(closedBeforeTheEnd);
        Assert.Equal(CloseReasons.SessionExpired, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CloseMessage_OnAGatedTransport_IsTheLastThingTheClientReceives()
    {
        // Arrange: the transport in front of the connection, as the middleware sets it up.
        var toServer = new Pipe();
        var toClient = new Pipe();
        var original = new Duplex(toServer.Reader, toClient.Writer);
        var context = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), original, new Duplex(toClient.Reader, toServer.Writer));
        context.Transport = new GatedTransport(toServer.Reader, original);
        var gate = _testbed.Keeper.Open(context, _testbed.Admissions.TryAdmit(IPAddress.Loopback)!, IPAddress.Loopback, origin: null);
        var hub = new HubConnectionContext(context, new HubConnectionContextOptions { KeepAliveInterval = TimeSpan.FromMinutes(5), ClientTimeoutInterval = TimeSpan.FromMinutes(5) }, NullLoggerFactory.Instance)
        {
            Protocol = new JsonHubProtocol(),
        };
        gate.Attach(hub);

        // Act: the gate's close, then SignalR's own close message as it ends every connection.
        gate.Close(CloseReasons.Revoked);
        await gate.SendCloseMessageAsync().WaitAsync(Timeout);
        await hub.WriteAsync(new CloseMessage("Connection closed with an error.", allowReconnect: true)).AsTask().WaitAsync(Timeout);
        toClient.Writer.Complete();
        var written = await ReadAllAsync(toClient.Reader);

        // Assert
        Assert.Equal(1, written.Split("\"type\":7").Length - 1);
        Assert.Contains("\"error\":\"revoked\"", written, StringComparison.Ordinal);
        Assert.DoesNotContain("Connection closed with an error.", written, StringComparison.Ordinal);
    }

    public void Dispose() => _testbed.Dispose();

    private static async Task<string> ReadAllAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
            if (result.IsCompleted)
            {
                var text = Encoding.UTF8.GetString(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                return text;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>A connection past the handshake whose gate tells <paramref name="observer"/> when it authenticates.</summary>
    private TestConnection Attached(IGateObserver observer)
    {
        var connection = _testbed.Open(handshakeDone: false);
        connection.Gate.Attach(connection.Hub, observer);
        return connection;
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Counts the joins of the lifetime manager; holds each one while <see cref="Hold"/> is pending.</summary>
    private sealed class RecordingGateObserver : IGateObserver
    {
        private int _joins;

        public TaskCompletionSource? Hold { get; init; }

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Joins => Volatile.Read(ref _joins);

        public async Task OnAuthenticatedAsync(ConnectionGate gate, HubConnectionContext connection)
        {
            Interlocked.Increment(ref _joins);
            Reached.TrySetResult();
            if (Hold is { } hold)
            {
                await hold.Task;
            }
        }
    }

    /// <summary>Records the connections told that their groups changed.</summary>
    private sealed class RecordingGroupRightsObserver : IGroupRightsObserver
    {
        private readonly List<string> _changed = [];

        public IReadOnlyList<string> Changed
        {
            get
            {
                lock (_changed)
                {
                    return [.. _changed];
                }
            }
        }

        public ValueTask OnGroupRightsChangedAsync(ISecureConnection connection, CancellationToken cancellationToken)
        {
            lock (_changed)
            {
                _changed.Add(connection.ConnectionId);
            }

            return ValueTask.CompletedTask;
        }
    }
}
