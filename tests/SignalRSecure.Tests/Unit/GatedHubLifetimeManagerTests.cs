using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The lifetime manager that wraps the app's: nothing reaches a connection before it authenticates, and everything
/// addressed to authenticated connections goes to the wrapped manager unchanged.
/// </summary>
public sealed class GatedHubLifetimeManagerTests : IDisposable
{
    private static readonly object?[] Arguments = ["hello"];
    private readonly GateTestbed _testbed = new();
    private readonly RecordingLifetimeManager _inner = new();
    private readonly GatedHubLifetimeManager<TestHub> _gated;

    public GatedHubLifetimeManagerTests() => _gated = new GatedHubLifetimeManager<TestHub>(_inner);

    [Fact]
    public async Task OnConnectedAsync_BeforeAuthenticate_TheWrappedManagerDoesNotKnowTheConnection()
    {
        var connection = await ConnectedAsync();

        Assert.Empty(_inner.Calls);
        await _testbed.AuthenticateAsync(connection);

        Assert.Same(_inner, _gated.Inner);
        Assert.Equal([$"connected {connection.Hub.ConnectionId}"], _inner.Calls);
        Assert.Same(connection.Hub, _inner.Connected.Single());
    }

    [Fact]
    public async Task OnConnectedAsync_HubNotMappedWithTheGate_Throws()
    {
        var connection = _testbed.Open(handshakeDone: false);
        connection.Context.Features.Set<IConnectionUserFeature>(null);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _gated.OnConnectedAsync(connection.Hub).WaitAsync(TimeSpan.FromSeconds(10)));

        // The developer who mapped the hub the wrong way is told which hub, and how to map it.
        Assert.Contains(nameof(TestHub), error.Message, StringComparison.Ordinal);
        Assert.Contains("MapSecureHub", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendConnectionAsync_Unauthenticated_IsDropped_Authenticated_IsDelivered()
    {
        var waiting = await ConnectedAsync();
        var authenticated = await AuthenticatedAsync();
        _inner.Calls.Clear();

        await _gated.SendConnectionAsync(waiting.Hub.ConnectionId, "Ping", Arguments);
        await _gated.SendConnectionAsync(authenticated.Hub.ConnectionId, "Ping", Arguments);

        Assert.Equal([$"connection {authenticated.Hub.ConnectionId} Ping"], _inner.Calls);
    }

    [Fact]
    public async Task SendConnectionsAsync_Mixed_DeliversToTheAuthenticatedOnesOnly()
    {
        var waiting = await ConnectedAsync();
        var first = await AuthenticatedAsync();
        var second = await AuthenticatedAsync();
        _inner.Calls.Clear();

        await _gated.SendConnectionsAsync([first.Hub.ConnectionId, waiting.Hub.ConnectionId, second.Hub.ConnectionId], "Ping", Arguments);

        Assert.Equal([$"connections {first.Hub.ConnectionId},{second.Hub.ConnectionId} Ping"], _inner.Calls);
    }

    [Fact]
    public async Task AddToGroupAsync_Unauthenticated_IsDropped_Authenticated_IsAdded()
    {
        var waiting = await ConnectedAsync();
        var authenticated = await AuthenticatedAsync();
        _inner.Calls.Clear();

        await _gated.AddToGroupAsync(waiting.Hub.ConnectionId, "general");
        await _gated.AddToGroupAsync(authenticated.Hub.ConnectionId, "general");

        Assert.Equal([$"add {authenticated.Hub.ConnectionId} general"], _inner.Calls);
    }

    [Fact]
    public async Task InvokeConnectionAsync_Unauthenticated_FailsWithoutAsking_Authenticated_IsAsked()
    {
        var waiting = await ConnectedAsync();
        var authenticated = await AuthenticatedAsync();
        _inner.Calls.Clear();

        var refused = await Assert.ThrowsAsync<HubException>(
            () => _gated.InvokeConnectionAsync<int>(waiting.Hub.ConnectionId, "Ask", Arguments, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        var answer = await _gated.InvokeConnectionAsync<int>(authenticated.Hub.ConnectionId, "Ask", Arguments, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Contains("not authenticated", refused.Message, StringComparison.Ordinal);
        Assert.Equal(42, answer);
        Assert.Equal([$"invoke {authenticated.Hub.ConnectionId} Ask"], _inner.Calls);
    }

    [Fact]
    public async Task SendsToAudiences_GoToTheWrappedManagerUnchanged()
    {
        // The wrapped manager knows only authenticated connections, so its audiences are already authenticated ones.
        IReadOnlyList<string> excluded = ["x1"];
        using var cancellation = new CancellationTokenSource();

        await _gated.SendAllAsync("All", Arguments, cancellation.Token);
        await _gated.SendAllExceptAsync("AllExcept", Arguments, excluded, cancellation.Token);
        await _gated.SendGroupAsync("general", "Group", Arguments, cancellation.Token);
        await _gated.SendGroupsAsync(["general", "ops"], "Groups", Arguments, cancellation.Token);
        await _gated.SendGroupExceptAsync("general", "GroupExcept", Arguments, excluded, cancellation.Token);
        await _gated.SendUserAsync("alice", "User", Arguments, cancellation.Token);
        await _gated.SendUsersAsync(["alice", "bob"], "Users", Arguments, cancellation.Token);
        await _gated.RemoveFromGroupAsync("c1", "general", cancellation.Token);
        await _gated.SetConnectionResultAsync("c1", CompletionMessage.WithResult("7", 1));
        var known = _gated.TryGetReturnType("7", out var type);

        Assert.Equal(
            [
                "all All", "all-except x1 AllExcept", "group general Group", "groups general,ops Groups",
                "group-except general x1 GroupExcept", "user alice User", "users alice,bob Users", "remove c1 general",
                "result c1 7", "return-type 7",
            ],
            _inner.Calls);
        Assert.All(_inner.Arguments, arguments => Assert.Same(Arguments, arguments));
        Assert.All(_inner.Tokens, token => Assert.Equal(cancellation.Token, token));
        Assert.True(known);
        Assert.Equal(typeof(int), type);
    }

    [Fact]
    public async Task OnDisconnectedAsync_Authenticated_LeavesTheWrappedManager()
    {
        var connection = await AuthenticatedAsync();
        _inner.Calls.Clear();

        await _gated.OnDisconnectedAsync(connection.Hub).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([$"disconnected {connection.Hub.ConnectionId}"], _inner.Calls);
    }

    [Fact]
    public async Task OnDisconnectedAsync_NeverAuthenticated_TheWrappedManagerHearsNothing()
    {
        var connection = await ConnectedAsync();

        await _gated.OnDisconnectedAsync(connection.Hub).WaitAsync(TimeSpan.FromSeconds(10));
        await _gated.AddToGroupAsync(connection.Hub.ConnectionId, "general");

        // Forgotten: an id the gated manager no longer tracks is left to the wrapped manager, which knows it not either.
        Assert.Equal([$"add {connection.Hub.ConnectionId} general"], _inner.Calls);
    }

    [Fact]
    public async Task OnDisconnectedAsync_WhileJoining_LeavesTheWrappedManagerOnlyAfterTheJoin()
    {
        // Arrange: the wrapped manager's OnConnectedAsync is held.
        var connection = await ConnectedAsync();
        _inner.HoldConnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var authenticating = _testbed.AuthenticateAsync(connection);
        await _inner.ConnectStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        var disconnecting = _gated.OnDisconnectedAsync(connection.Hub);
        var leftBeforeTheJoin = disconnecting.IsCompleted || _inner.Calls.Contains($"disconnected {connection.Hub.ConnectionId}");
        _inner.HoldConnect.SetResult();
        await authenticating.WaitAsync(TimeSpan.FromSeconds(10));
        await disconnecting.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.False(leftBeforeTheJoin);
        Assert.Equal([$"connected {connection.Hub.ConnectionId}", $"disconnected {connection.Hub.ConnectionId}"], _inner.Calls);
    }

    [Fact]
    public async Task OnDisconnectedAsync_AfterAFailedJoin_StillLeavesTheWrappedManager()
    {
        var connection = await ConnectedAsync();
        _inner.HoldConnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var authenticating = _testbed.AuthenticateAsync(connection);
        await _inner.ConnectStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var disconnecting = _gated.OnDisconnectedAsync(connection.Hub);

        _inner.HoldConnect.SetException(new InvalidOperationException("backplane down"));
        var error = await Assert.ThrowsAsync<HubException>(() => authenticating.WaitAsync(TimeSpan.FromSeconds(10)));
        await disconnecting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HubErrors.Unavailable, error.Message);
        Assert.Equal($"disconnected {connection.Hub.ConnectionId}", _inner.Calls.Last());
    }

    [Fact]
    public async Task SendToAllGroupAndUser_OnSignalRsDefaultManager_ReachAuthenticatedConnectionsOnly()
    {
        // Arrange: SignalR's own manager inside, as an app without scale-out has.
        var gated = new GatedHubLifetimeManager<TestHub>(new DefaultHubLifetimeManager<TestHub>(NullLogger<DefaultHubLifetimeManager<TestHub>>.Instance));
        var waiting = _testbed.Open(handshakeDone: false);
        await gated.OnConnectedAsync(waiting.Hub);
        var authenticated = _testbed.Open(handshakeDone: false);
        await gated.OnConnectedAsync(authenticated.Hub);
        await _testbed.AuthenticateAsync(authenticated);

        // Act
        await gated.SendAllAsync("Broadcast", Arguments).WaitAsync(TimeSpan.FromSeconds(10));
        await gated.AddToGroupAsync(waiting.Hub.ConnectionId, "general");
        await gated.AddToGroupAsync(authenticated.Hub.ConnectionId, "general");
        await gated.SendGroupAsync("general", "ToGroup", Arguments).WaitAsync(TimeSpan.FromSeconds(10));
        await gated.SendConnectionAsync(waiting.Hub.ConnectionId, "Direct", Arguments).WaitAsync(TimeSpan.FromSeconds(10));
        await gated.SendUserAsync("alice", "ToUser", Arguments).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        var received = await authenticated.ReadWrittenAsync();
        while (!received.Contains("ToUser", StringComparison.Ordinal))
        {
            received += await authenticated.ReadWrittenAsync();
        }

        Assert.Contains("\"target\":\"Broadcast\"", received, StringComparison.Ordinal);
        Assert.Contains("\"target\":\"ToGroup\"", received, StringComparison.Ordinal);
        Assert.Contains("\"target\":\"ToUser\"", received, StringComparison.Ordinal);
        Assert.False(waiting.HasWritten());
    }

    [Fact]
    public async Task DisposeAsync_AsynchronouslyDisposableInner_IsDisposedAsynchronously()
    {
        var inner = new DisposableLifetimeManager();
        var gated = new GatedHubLifetimeManager<TestHub>(inner);

        await gated.DisposeAsync();

        Assert.Equal(["dispose-async"], inner.Disposals);
    }

    [Fact]
    public async Task DisposeAsync_DisposableInner_IsDisposed()
    {
        var inner = new SyncDisposableLifetimeManager();
        var gated = new GatedHubLifetimeManager<TestHub>(inner);

        await gated.DisposeAsync();
        gated.Dispose();

        Assert.Equal(2, inner.Disposals);
    }

    [Fact]
    public async Task Dispose_InnerThatIsNotDisposable_DoesNothing()
    {
        var gated = new GatedHubLifetimeManager<TestHub>(_inner);

        gated.Dispose();
        await gated.DisposeAsync();

        Assert.Empty(_inner.Calls);
    }

    public void Dispose() => _testbed.Dispose();

    private async Task<TestConnection> ConnectedAsync()
    {
        var connection = _testbed.Open(handshakeDone: false);
        await _gated.OnConnectedAsync(connection.Hub).WaitAsync(TimeSpan.FromSeconds(10));
        return connection;
    }

    private async Task<TestConnection> AuthenticatedAsync()
    {
        var connection = await ConnectedAsync();
        await _testbed.AuthenticateAsync(connection);
        return connection;
    }

    private sealed class TestHub : Hub;

    /// <summary>Records what the gated manager passes on, one line per call.</summary>
    private class RecordingLifetimeManager : HubLifetimeManager<TestHub>
    {
        public List<string> Calls { get; } = [];

        public List<HubConnectionContext> Connected { get; } = [];

        public List<object?[]> Arguments { get; } = [];

        public List<CancellationToken> Tokens { get; } = [];

        public TaskCompletionSource? HoldConnect { get; set; }

        public TaskCompletionSource ConnectStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task OnConnectedAsync(HubConnectionContext connection)
        {
            ConnectStarted.TrySetResult();
            if (HoldConnect is { } hold)
            {
                await hold.Task;
            }

            await Record($"connected {connection.ConnectionId}");
            Connected.Add(connection);
        }

        public override Task OnDisconnectedAsync(HubConnectionContext connection) => Record($"disconnected {connection.ConnectionId}");

        public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"all {methodName}", args, cancellationToken);

        public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
            Record($"all-except {string.Join(',', excludedConnectionIds)} {methodName}", args, cancellationToken);

        public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"connection {connectionId} {methodName}", args, cancellationToken);

        public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"connections {string.Join(',', connectionIds)} {methodName}", args, cancellationToken);

        public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"group {groupName} {methodName}", args, cancellationToken);

        public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"groups {string.Join(',', groupNames)} {methodName}", args, cancellationToken);

        public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
            Record($"group-except {groupName} {string.Join(',', excludedConnectionIds)} {methodName}", args, cancellationToken);

        public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"user {userId} {methodName}", args, cancellationToken);

        public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
            Record($"users {string.Join(',', userIds)} {methodName}", args, cancellationToken);

        public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
            Record($"add {connectionId} {groupName}");

        public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
            Record($"remove {connectionId} {groupName}", null, cancellationToken);

        public override Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken)
        {
            Calls.Add($"invoke {connectionId} {methodName}");
            return Task.FromResult((T)(object)42);
        }

        public override Task SetConnectionResultAsync(string connectionId, CompletionMessage result) =>
            Record($"result {connectionId} {result.InvocationId}");

        public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type)
        {
            Calls.Add($"return-type {invocationId}");
            type = typeof(int);
            return true;
        }

        private Task Record(string call, object?[]? args = null, CancellationToken? cancellationToken = null)
        {
            Calls.Add(call);
            if (args is not null)
            {
                Arguments.Add(args);
            }

            if (cancellationToken is { } token)
            {
                Tokens.Add(token);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class DisposableLifetimeManager : RecordingLifetimeManager, IAsyncDisposable, IDisposable
    {
        public List<string> Disposals { get; } = [];

        public ValueTask DisposeAsync()
        {
            Disposals.Add("dispose-async");
            return ValueTask.CompletedTask;
        }

        public void Dispose() => Disposals.Add("dispose");
    }

    private sealed class SyncDisposableLifetimeManager : RecordingLifetimeManager, IDisposable
    {
        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;
    }
}
