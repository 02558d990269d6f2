using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;
using static Microsoft.Extensions.Options.Options;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The gate keeper when what it leans on fails or races it: a shared store that is down (user limits, ticket store,
/// lockout), a lifetime manager that cannot take the connection, a group-rights observer that throws, and a connection
/// that ends while Authenticate is still running. Every such path answers with a retryable error or carries on, closes
/// what it must, gives back what it took, and leaves a record for the operator.
/// </summary>
public sealed class GateKeeperFailureTests : IDisposable
{
    // What a network store's exception might say: it must reach the log only.
    private const string StoreError = "redis-0.internal:6379 timed out";

    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CapturedLogs _logs = new();
    private readonly LoggerFactory _loggers;
    private readonly ManualTimeProvider _time = new();
    private readonly GateKeeperReportingTests.Measurements _measurements;
    private readonly TicketService _tickets;
    private readonly InMemoryTicketStore _store;
    private readonly AuthenticationFailureLimiter _limiter;
    private readonly FailingLimiter _failures;
    private readonly FailingSharedLimits _shared = new();
    private readonly InMemoryUserConnectionRegistry _registry = new();
    private readonly HeldRegistry _heldRegistry;
    private readonly List<ConnectionAdmission> _admissions = [];
    private ITicketRedeemer? _redeemer;
    private GateKeeper? _keeper;
    private UserBudgets? _budgets;

    public GateKeeperFailureTests()
    {
        _loggers = new LoggerFactory([_logs]);
        _measurements = new GateKeeperReportingTests.Measurements(_meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var ticketOptions = Create(new TicketOptions());
        _store = new InMemoryTicketStore(_time, ticketOptions);
        _tickets = new TicketService(_store, ticketOptions, _time);
        _limiter = new AuthenticationFailureLimiter(Create(new ProtectionOptions()), _time);
        _failures = new FailingLimiter(_limiter);
        _heldRegistry = new HeldRegistry(_registry);
    }

    [Fact]
    public async Task Authenticate_SharedUserLimitsFail_AnswersUnavailableLogsAndClosesRetryably()
    {
        // Arrange
        var keeper = Keeper();
        _shared.FailAdd = true;
        var (gate, ticket) = await AuthenticatingAsync(keeper);

        // Act
        var error = await Assert.ThrowsAsync<HubException>(() => keeper.AuthenticateAsync(gate, ticket).WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert: fails closed like the ticket store (retryable, no lockout strike), the store's text in the log only.
        Assert.Equal(HubErrors.Unavailable, error.Message);
        Assert.Equal(CloseReasons.Unavailable, gate.CloseReason);
        Assert.False(gate.IsAuthenticated);
        var logged = Assert.Single(_logs.WithEvent("UserLimitsFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains("alice", logged.Message, StringComparison.Ordinal);
        Assert.Equal(StoreError, logged.Exception?.Message);
        Assert.DoesNotContain(StoreError, logged.Message, StringComparison.Ordinal);
        Assert.False(_limiter.IsLockedOut(IPAddress.Loopback, out _));
        Assert.Equal(0, _budgets!.Count);
    }

    [Fact]
    public async Task Authenticate_OverMaxConnectionsPerUser_IsLoggedAndCountedAsTheUsersConnectionLimit()
    {
        // Arrange: one connection per user, taken.
        var keeper = Keeper(new ProtectionOptions { MaxConnectionsPerUser = 1 });
        var (first, firstTicket) = await AuthenticatingAsync(keeper);
        await keeper.AuthenticateAsync(first, firstTicket);
        var (second, secondTicket) = await AuthenticatingAsync(keeper);

        // Act
        await Assert.ThrowsAsync<HubException>(() => keeper.AuthenticateAsync(second, secondTicket).WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert
        Assert.Equal(1, _measurements.Total("signalrsecure.ratelimit.rejections", "user-connections"));
        Assert.Equal(1, _measurements.Total("signalrsecure.ratelimit.rejections"));
        var logged = Assert.Single(_logs.WithEvent("UserConnectionCapRefused"));
        Assert.Contains(second.ConnectionId, logged.Message, StringComparison.Ordinal);
        Assert.Contains("alice", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authenticate_ConnectionEndsWhileTheTicketIsRedeemed_GivesTheUsersPlaceBack()
    {
        // Arrange: one connection per user; the ticket store answers only when the test lets it.
        var held = new HeldRedeemer(new TicketRedeemer(_failures, _store));
        _redeemer = held;
        var keeper = Keeper(new ProtectionOptions { MaxConnectionsPerUser = 1 });
        var (gate, ticket) = await AuthenticatingAsync(keeper);
        var authenticating = keeper.AuthenticateAsync(gate, ticket);
        await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Act: the connection ends, then the ticket is redeemed.
        await gate.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        held.Release.SetResult();
        var error = await Assert.ThrowsAsync<HubException>(() => authenticating.WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert: the user's one place is free again, so the user's next connection gets in.
        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.False(gate.IsAuthenticated);
        Assert.Equal(0, _budgets!.Count);
        _redeemer = null;
        var (next, nextTicket) = await AuthenticatingAsync(keeper);
        await keeper.AuthenticateAsync(next, nextTicket).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(next.IsAuthenticated);
    }

    [Fact]
    public async Task Authenticate_LifetimeManagerJoinFails_AnswersUnavailableLogsAndClosesRetryably()
    {
        // Arrange: a scale-out lifetime manager that cannot subscribe the connection.
        var keeper = Keeper();
        var observer = new FailingObserver();
        var (gate, ticket) = await AuthenticatingAsync(keeper, observer);

        // Act
        var error = await Assert.ThrowsAsync<HubException>(() => keeper.AuthenticateAsync(gate, ticket).WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert
        Assert.Equal(HubErrors.Unavailable, error.Message);
        Assert.Equal(CloseReasons.Unavailable, gate.CloseReason);
        Assert.False(CloseReasons.IsTerminal(gate.CloseReason));
        var logged = Assert.Single(_logs.WithEvent("LifetimeManagerJoinFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains("alice", logged.Message, StringComparison.Ordinal);
        Assert.Equal(StoreError, logged.Exception?.Message);
        Assert.Empty(_logs.WithEvent("Authenticated"));
    }

    [Fact]
    public async Task Authenticate_ConnectionEndsWhileTheRegistryAddsIt_LeavesNoRegistryEntry()
    {
        // Arrange: the registry's add is held, so the connection's removal as it ends runs before the add.
        var keeper = Keeper(registry: _heldRegistry);
        var (gate, ticket) = await AuthenticatingAsync(keeper);
        var authenticating = keeper.AuthenticateAsync(gate, ticket);
        await _heldRegistry.AddStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        await gate.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        _heldRegistry.ReleaseAdd.SetResult();
        await authenticating.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: a logout or revocation of the user finds no connection; a gone one would be kept forever.
        Assert.Equal(0, await _registry.CloseUserConnectionsAsync("alice", CloseReasons.Revoked));
    }

    [Fact]
    public async Task GroupRightsChange_ObserverFails_LogsTheFailureAndClosesWithSessionExpired()
    {
        // Arrange
        var keeper = Keeper(observers: new ThrowingGroupRightsObserver());
        var (gate, ticket) = await AuthenticatingAsync(keeper, groups: ["general", "secret"]);
        await keeper.AuthenticateAsync(gate, ticket);

        // Act
        await keeper.ReauthenticateAsync(gate, await IssueAsync(["general"])).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(CloseReasons.SessionExpired, gate.CloseReason);
        var logged = Assert.Single(_logs.WithEvent("GroupRightsChangeFailed"));
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Contains("alice", logged.Message, StringComparison.Ordinal);
        Assert.Equal(StoreError, logged.Exception?.Message);
    }

    [Fact]
    public async Task Disconnect_SharedUserLimitsFailToTakeTheConnectionBack_LogsItAndTheNodeStillGivesItBack()
    {
        // Arrange
        var keeper = Keeper(new ProtectionOptions { MaxConnectionsPerUser = 1 });
        var (gate, ticket) = await AuthenticatingAsync(keeper);
        await keeper.AuthenticateAsync(gate, ticket);
        _shared.FailRemove = true;

        // Act
        await gate.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        var logged = Assert.Single(_logs.WithEvent("UserLimitsFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains("alice", logged.Message, StringComparison.Ordinal);
        Assert.Equal(StoreError, logged.Exception?.Message);
        Assert.Equal(0, _budgets!.Count);
        Assert.Single(_logs.WithEvent("ConnectionClosed"));
    }

    [Fact]
    public async Task Authenticate_TicketStoreFails_AnswersUnavailableCountsLogsAndClosesRetryably()
    {
        // Arrange
        _redeemer = new ThrowingRedeemer();
        var keeper = Keeper();
        var (gate, ticket) = await AuthenticatingAsync(keeper);

        // Act
        var error = await Assert.ThrowsAsync<HubException>(() => keeper.AuthenticateAsync(gate, ticket).WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert: not the client's fault (no lockout strike), retryable, counted under its own reason.
        Assert.Equal(HubErrors.Unavailable, error.Message);
        Assert.Equal(CloseReasons.Unavailable, gate.CloseReason);
        Assert.Equal(1, _measurements.Total("signalrsecure.authentication.failures", GateKeeper.StoreFailedReason));
        var logged = Assert.Single(_logs.WithEvent("TicketStoreFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(StoreError, logged.Exception?.Message);
        Assert.DoesNotContain(StoreError, logged.Message, StringComparison.Ordinal);
        Assert.False(_limiter.IsLockedOut(IPAddress.Loopback, out _));
    }

    [Fact]
    public async Task Authenticate_LockoutFailsToCountTheOutcome_LogsItAndTheTicketStillCounts()
    {
        // Arrange: the lockout's store fails after the ticket was taken and checked.
        var keeper = Keeper();
        _failures.FailEnd = true;
        var (gate, ticket) = await AuthenticatingAsync(keeper);

        // Act
        var result = await keeper.AuthenticateAsync(gate, ticket).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal("alice", result.User);
        Assert.True(gate.IsAuthenticated);
        var logged = Assert.Single(_logs.WithEvent("LockoutStoreFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(StoreError, logged.Exception?.Message);
    }

    [Fact]
    public async Task MalformedAuthenticate_LockoutStoreFails_LogsItAndReportsTheFailureWithoutALockout()
    {
        // Arrange
        var keeper = Keeper();
        _failures.FailRecord = true;
        var (gate, _) = await AuthenticatingAsync(keeper);

        // Act: the reader refuses a malformed Authenticate frame.
        gate.RefuseBeforeAuthentication("malformed Authenticate", CloseReasons.AuthenticationFailed);

        // Assert
        var logged = await _logs.WaitForAsync(r => r.EventId.Name == "LockoutStoreFailed");
        Assert.Equal(StoreError, logged.Exception?.Message);
        await _logs.WaitForAsync(r => r.EventId.Name == "AuthenticationFailed");
        Assert.Equal(1, _measurements.Total("signalrsecure.authentication.failures", nameof(TicketRejection.Malformed)));
        Assert.Empty(_logs.WithEvent("AddressLockedOut"));
    }

    public void Dispose()
    {
        foreach (var admissions in _admissions)
        {
            admissions.Dispose();
        }

        _measurements.Dispose();
        _limiter.Dispose();
        _meters.Dispose();
        _loggers.Dispose();
    }

    private GateKeeper Keeper(ProtectionOptions? protection = null, IUserConnectionRegistry? registry = null, params IGroupRightsObserver[] observers)
    {
        var protectionOptions = Create(protection ?? new ProtectionOptions());
        var hubOptions = Create(new SecureHubOptions());
        _budgets = new UserBudgets(protectionOptions, hubOptions, _time, _shared);
        var redeemer = new SwitchableRedeemer(this);
        _keeper = new GateKeeper(
            hubOptions, _time, _tickets, redeemer, _failures, registry ?? _registry, _budgets, observers,
            new SecureHubMetrics(_meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), protectionOptions,
            _loggers.CreateLogger<GateKeeper>());
        return _keeper;
    }

    private async Task<string> IssueAsync(string[]? groups = null) =>
        (await _tickets.IssueAsync(new TicketGrant("alice", groups ?? ["general"], "127.0.0.1", null, null))).Ticket;

    /// <summary>A gate past the SignalR handshake, whose Authenticate frame the reader has let through, and a ticket for it.</summary>
    private async Task<(ConnectionGate Gate, string Ticket)> AuthenticatingAsync(GateKeeper keeper, IGateObserver? observer = null, string[]? groups = null)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var context = new DefaultConnectionContext(
            Guid.NewGuid().ToString("N"), new Duplex(toServer.Reader, toClient.Writer), new Duplex(toClient.Reader, toServer.Writer));
        var admissions = new ConnectionAdmission(Create(new ProtectionOptions()));
        _admissions.Add(admissions);
        var gate = keeper.Open(context, admissions.TryAdmit(IPAddress.Loopback)!, IPAddress.Loopback, origin: null);
        var hub = new HubConnectionContext(context, new HubConnectionContextOptions(), NullLoggerFactory.Instance) { Protocol = new JsonHubProtocol() };
        gate.Attach(hub, observer);
        Assert.True(gate.TryBeginAuthentication());
        return (gate, await IssueAsync(groups));
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>The test's redeemer when it set one, else the default one on the test's limiter and store.</summary>
    private sealed class SwitchableRedeemer(GateKeeperFailureTests test) : ITicketRedeemer
    {
        public ValueTask<GuardedRedemption> RedeemAsync(IPAddress? address, string? ticketHash, Func<StoredTicket, TicketRejection?> check, CancellationToken cancellationToken = default) =>
            (test._redeemer ?? new TicketRedeemer(test._failures, test._store)).RedeemAsync(address, ticketHash, check, cancellationToken);
    }

    /// <summary>A redeemer that waits for the test before redeeming.</summary>
    private sealed class HeldRedeemer(ITicketRedeemer inner) : ITicketRedeemer
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<GuardedRedemption> RedeemAsync(IPAddress? address, string? ticketHash, Func<StoredTicket, TicketRejection?> check, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Release.Task;
            return await inner.RedeemAsync(address, ticketHash, check, cancellationToken);
        }
    }

    /// <summary>A ticket store (with its lockout) that is down.</summary>
    private sealed class ThrowingRedeemer : ITicketRedeemer
    {
        public ValueTask<GuardedRedemption> RedeemAsync(IPAddress? address, string? ticketHash, Func<StoredTicket, TicketRejection?> check, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<GuardedRedemption>(new InvalidOperationException(StoreError));
    }

    /// <summary>The in-memory lockout, whose store fails for the operations the test picks.</summary>
    private sealed class FailingLimiter(IAuthenticationFailureLimiter inner) : IAuthenticationFailureLimiter
    {
        public bool FailEnd { get; set; }

        public bool FailRecord { get; set; }

        public ValueTask<TimeSpan> GetLockoutAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            inner.GetLockoutAsync(address, cancellationToken);

        public ValueTask<AuthenticationAttempt?> TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            inner.TryBeginAttemptAsync(address, cancellationToken);

        public ValueTask<bool> EndAttemptAsync(AuthenticationAttempt attempt, bool failed, CancellationToken cancellationToken = default) =>
            FailEnd ? ValueTask.FromException<bool>(new InvalidOperationException(StoreError)) : inner.EndAttemptAsync(attempt, failed, cancellationToken);

        public ValueTask<bool> RecordFailureAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            FailRecord ? ValueTask.FromException<bool>(new InvalidOperationException(StoreError)) : inner.RecordFailureAsync(address, cancellationToken);
    }

    /// <summary>Per-user limits shared with other nodes, whose store fails for the operations the test picks.</summary>
    private sealed class FailingSharedLimits : ISharedUserLimits
    {
        public bool FailAdd { get; set; }

        public bool FailRemove { get; set; }

        public bool IsShared => true;

        public ValueTask<bool> TryAddConnectionAsync(string user, int maximum, CancellationToken cancellationToken = default) =>
            FailAdd ? ValueTask.FromException<bool>(new InvalidOperationException(StoreError)) : ValueTask.FromResult(true);

        public ValueTask RemoveConnectionAsync(string user, CancellationToken cancellationToken = default) =>
            FailRemove ? ValueTask.FromException(new InvalidOperationException(StoreError)) : ValueTask.CompletedTask;

        public ValueTask<int?> LeaseInvocationsAsync(string user, CancellationToken cancellationToken = default) => ValueTask.FromResult<int?>(null);
    }

    /// <summary>A registry whose add waits for the test.</summary>
    private sealed class HeldRegistry(IUserConnectionRegistry inner) : IUserConnectionRegistry
    {
        public TaskCompletionSource AddStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseAdd { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask AddAsync(ISecureConnection connection, CancellationToken cancellationToken = default)
        {
            AddStarted.TrySetResult();
            await ReleaseAdd.Task;
            await inner.AddAsync(connection, cancellationToken);
        }

        public ValueTask RemoveAsync(ISecureConnection connection, CancellationToken cancellationToken = default) => inner.RemoveAsync(connection, cancellationToken);

        public ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default) =>
            inner.CloseUserConnectionsAsync(user, reason, cancellationToken);

        public ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default) =>
            inner.UpdateUserGroupsAsync(user, groups, issuedAt, cancellationToken);
    }

    /// <summary>A lifetime manager that cannot take the connection (a backplane that is down).</summary>
    private sealed class FailingObserver : IGateObserver
    {
        public Task OnAuthenticatedAsync(ConnectionGate gate, HubConnectionContext connection) =>
            Task.FromException(new InvalidOperationException(StoreError));
    }

    /// <summary>A group-rights observer whose store is down.</summary>
    private sealed class ThrowingGroupRightsObserver : IGroupRightsObserver
    {
        public ValueTask OnGroupRightsChangedAsync(ISecureConnection connection, CancellationToken cancellationToken) =>
            ValueTask.FromException(new InvalidOperationException(StoreError));
    }
}
