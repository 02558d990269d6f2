using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// A shared store that is down: the connection registry and the group roster throw, and every caller answers with a
/// documented, retryable error (never the store's text), closes what it must, and logs the rest.
/// </summary>
public sealed class StoreFailureTests : IDisposable
{
    // What a network store's exception might say: it must reach the log only.
    private const string StoreError = "redis-0.internal:6379 timed out";

    private readonly CapturedLogs _hubLogs = new();
    private readonly LoggerFactory _loggers;
    private readonly RecordingClients _clients = new();
    private readonly RecordingGroups _groups = new();

    public StoreFailureTests() => _loggers = new LoggerFactory([_hubLogs]);

    [Fact]
    public async Task Authenticate_RegistryAddFails_AnswersUnavailableAndClosesWithTheRetryableReason()
    {
        // Arrange
        using var testbed = new GateTestbed(registry: new FailingRegistry(failAdd: true));
        var connection = testbed.Open();
        var ticket = await testbed.IssueAsync("alice");
        Assert.True(connection.Gate.TryBeginAuthentication());

        // Act
        var error = await Assert.ThrowsAsync<HubException>(() => testbed.Keeper.AuthenticateAsync(connection.Gate, ticket));

        // Assert
        Assert.Equal(HubErrors.Unavailable, error.Message);
        Assert.Equal(CloseReasons.Unavailable, connection.Gate.CloseReason);
        Assert.False(CloseReasons.IsTerminal(connection.Gate.CloseReason));
        var logged = Assert.Single(testbed.Logs.WithEvent("RegistryAddFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(StoreError, logged.Exception?.Message);
        Assert.DoesNotContain(StoreError, logged.Message, StringComparison.Ordinal);
        Assert.False(testbed.Failures.IsLockedOut(System.Net.IPAddress.Loopback, out _));
    }

    [Fact]
    public async Task Authenticate_RegistryAddFails_GivesTheUsersConnectionBackWhenTheConnectionEnds()
    {
        // Arrange: one connection per user, so a budget kept by the refused connection would refuse the next one.
        var registry = new FailingRegistry(failAdd: true);
        using var testbed = new GateTestbed(protection: new ProtectionOptions { MaxConnectionsPerUser = 1 }, registry: registry);
        var refused = testbed.Open();
        var ticket = await testbed.IssueAsync("alice");
        Assert.True(refused.Gate.TryBeginAuthentication());
        await Assert.ThrowsAsync<HubException>(() => testbed.Keeper.AuthenticateAsync(refused.Gate, ticket));

        // Act
        await GateTestbed.DisconnectAsync(refused);
        registry.FailAdd = false;
        var next = testbed.Open();
        await testbed.AuthenticateAsync(next, "alice");

        // Assert
        Assert.True(next.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Disconnect_RegistryRemoveFails_LogsAWarningAndStillReleasesTheUsersBudget()
    {
        // Arrange
        using var testbed = new GateTestbed(protection: new ProtectionOptions { MaxConnectionsPerUser = 1 }, registry: new FailingRegistry(failRemove: true));
        var first = testbed.Open();
        await testbed.AuthenticateAsync(first, "alice");

        // Act
        await GateTestbed.DisconnectAsync(first).WaitAsync(TimeSpan.FromSeconds(10));
        var second = testbed.Open();
        await testbed.AuthenticateAsync(second, "alice");

        // Assert
        var logged = Assert.Single(testbed.Logs.WithEvent("RegistryRemoveFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.True(second.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Reauthenticate_RegistryFanOutFails_TheCallingConnectionStillTakesTheNewGroups()
    {
        // Arrange
        using var testbed = new GateTestbed(registry: new FailingRegistry(failFanOut: true));
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "alice", ["general", "secret"]);

        // Act
        await testbed.Keeper.ReauthenticateAsync(connection.Gate, await testbed.IssueAsync("alice", ["general"]));

        // Assert
        Assert.Equal(["general"], connection.Gate.Groups);
        Assert.Single(testbed.Logs.WithEvent("GroupRightsNotShared"));
        Assert.Null(connection.Gate.CloseReason);
    }

    [Theory]
    [InlineData(nameof(ChatHub.JoinGroup))]
    [InlineData(nameof(ChatHub.LeaveGroup))]
    [InlineData(nameof(ChatHub.SendToGroup))]
    [InlineData(nameof(ChatHub.GetGroupMembers))]
    public async Task HubMethod_RosterFails_AnswersUnavailableAndChangesNothing(string method)
    {
        // Arrange
        using var testbed = new GateTestbed();
        var hub = await HubAsync(testbed, new FailingRoster());

        // Act
        var error = await Assert.ThrowsAsync<HubException>(() => method switch
        {
            nameof(ChatHub.JoinGroup) => hub.JoinGroup("general"),
            nameof(ChatHub.LeaveGroup) => hub.LeaveGroup("general"),
            nameof(ChatHub.SendToGroup) => hub.SendToGroup("general", "hi"),
            _ => hub.GetGroupMembers("general"),
        });

        // Assert
        Assert.Equal(HubErrors.Unavailable, error.Message);
        Assert.Empty(_clients.Sent);
        Assert.Empty(_groups.Changes);
        var logged = Assert.Single(_hubLogs.WithEvent("RosterFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains(method, logged.Message, StringComparison.Ordinal);
        Assert.Equal(StoreError, logged.Exception?.Message);
    }

    [Fact]
    public async Task Broadcast_HistoryFails_DeliversWithoutAnIdAndLogsAWarning()
    {
        // Arrange
        using var testbed = new GateTestbed();
        var hub = await HubAsync(testbed, new InMemoryGroupRoster(), new FailingHistory());

        // Act
        await hub.Broadcast("hi").WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        var (_, _, payload) = Assert.Single(_clients.Sent);
        Assert.Equal(("hi", null), (Assert.IsType<ChatMessage>(payload).Text, ((ChatMessage)payload).Id));
        var logged = Assert.Single(_hubLogs.WithEvent("HistoryAppendFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(StoreError, logged.Exception?.Message);
    }

    [Theory]
    [InlineData(nameof(ChatHub.GetHistory))]
    [InlineData(nameof(ChatHub.RejoinGroup))]
    public async Task HistoryRead_HistoryFails_AnswersUnavailableWithoutTheStoresText(string method)
    {
        // Arrange
        using var testbed = new GateTestbed();
        var hub = await HubAsync(testbed, new InMemoryGroupRoster(), new FailingHistory());

        // Act
        var error = await Assert.ThrowsAsync<HubException>(() => method == nameof(ChatHub.GetHistory)
            ? hub.GetHistory(null, null, null)
            : hub.RejoinGroup(null, "1-0"));

        // Assert
        Assert.Equal(HubErrors.Unavailable, error.Message);
        var logged = Assert.Single(_hubLogs.WithEvent("HistoryFailed"));
        Assert.Contains(method, logged.Message, StringComparison.Ordinal);
        Assert.Equal(StoreError, logged.Exception?.Message);
    }

    [Fact]
    public async Task OnDisconnected_RosterFails_LogsAWarningAndDoesNotThrow()
    {
        // Arrange
        using var testbed = new GateTestbed();
        var hub = await HubAsync(testbed, new FailingRoster());

        // Act
        await hub.OnDisconnectedAsync(null).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        var logged = Assert.Single(_hubLogs.WithEvent("DisconnectCleanupFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Empty(_clients.Sent);
    }

    [Fact]
    public async Task GroupRightsChange_RosterFails_ClosesTheConnectionWithSessionExpired()
    {
        // Arrange: no membership may outlive the right to it, so a roster that cannot be brought in line ends the connection.
        using var testbed = new GateTestbed(observers: new ChatGroupRightsObserver(new FailingRoster(), new RecordingHubContext(_clients, _groups)));
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "alice", ["general", "secret"]);

        // Act
        await testbed.Keeper.ReauthenticateAsync(connection.Gate, await testbed.IssueAsync("alice", ["general"]));

        // Assert
        Assert.Equal(CloseReasons.SessionExpired, connection.Gate.CloseReason);
    }

    public void Dispose() => _loggers.Dispose();

    private async Task<ChatHub> HubAsync(GateTestbed testbed, IGroupRoster roster, IChatHistory? history = null)
    {
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "alice");
        var options = Options.Create(new ChatOptions());
        return new ChatHub(roster, history ?? new InMemoryChatHistory(options, testbed.Time), options, testbed.Time, _loggers.CreateLogger<ChatHub>())
        {
            Context = new FakeCallerContext(connection.Gate, connection.Context.ConnectionId),
            Clients = _clients,
            Groups = _groups,
        };
    }

    /// <summary>A history whose store is down.</summary>
    private sealed class FailingHistory : IChatHistory
    {
        public ValueTask AppendAsync(ChatMessage message, Func<ChatMessage, Task> deliver, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(StoreError);

        public ValueTask<IReadOnlyList<ChatMessage>> ReadAsync(string? group, string? beforeId, int limit, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(StoreError);

        public ValueTask<GroupRecovery> ReadSinceAsync(string? group, string sinceId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(StoreError);
    }

    /// <summary>A registry whose store is down for the operations the test picks; the others work in memory.</summary>
    private sealed class FailingRegistry(bool failAdd = false, bool failRemove = false, bool failFanOut = false) : IUserConnectionRegistry
    {
        private readonly InMemoryUserConnectionRegistry _inner = new();

        public bool FailAdd { get; set; } = failAdd;

        public ValueTask AddAsync(ISecureConnection connection, CancellationToken cancellationToken = default) =>
            FailAdd ? ValueTask.FromException(new InvalidOperationException(StoreError)) : _inner.AddAsync(connection, cancellationToken);

        public ValueTask RemoveAsync(ISecureConnection connection, CancellationToken cancellationToken = default) =>
            failRemove ? ValueTask.FromException(new InvalidOperationException(StoreError)) : _inner.RemoveAsync(connection, cancellationToken);

        public ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default) =>
            failFanOut ? ValueTask.FromException<int>(new InvalidOperationException(StoreError)) : _inner.CloseUserConnectionsAsync(user, reason, cancellationToken);

        public ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default) =>
            failFanOut ? ValueTask.FromException<int>(new InvalidOperationException(StoreError)) : _inner.UpdateUserGroupsAsync(user, groups, issuedAt, cancellationToken);
    }

    /// <summary>A roster whose store is down: every call fails, asynchronously, as a network call would.</summary>
    private sealed class FailingRoster : IGroupRoster
    {
        public ValueTask<IGroupRoster.JoinResult> TryJoinAsync(string connectionId, string user, string group, int maximumGroups, CancellationToken cancellationToken = default) =>
            FailAsync<IGroupRoster.JoinResult>();

        public ValueTask<bool> LeaveAsync(string connectionId, string group, CancellationToken cancellationToken = default) => FailAsync<bool>();

        public ValueTask<bool> IsMemberAsync(string connectionId, string group, CancellationToken cancellationToken = default) => FailAsync<bool>();

        public ValueTask<IReadOnlyList<string>> GroupsOfAsync(string connectionId, CancellationToken cancellationToken = default) =>
            FailAsync<IReadOnlyList<string>>();

        public ValueTask<IReadOnlyList<string>> MembersAsync(string group, CancellationToken cancellationToken = default) =>
            FailAsync<IReadOnlyList<string>>();

        public ValueTask<IReadOnlyList<string>> RemoveConnectionAsync(string connectionId, CancellationToken cancellationToken = default) =>
            FailAsync<IReadOnlyList<string>>();

        private static async ValueTask<T> FailAsync<T>()
        {
            await Task.Yield();
            throw new InvalidOperationException(StoreError);
        }
    }
}
