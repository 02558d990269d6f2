using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// What the gate keeper logs and counts for each thing that happens at the gate: operators see an attack only
/// through these, so each record and each measurement is part of the behaviour.
/// </summary>
public sealed class GateKeeperReportingTests : IDisposable
{
    private readonly GateTestbed _testbed = new();
    private readonly Measurements _measurements;

    public GateKeeperReportingTests() => _measurements = new Measurements(_testbed.MeterFactory);

    [Fact]
    public async Task ConnectionThatAuthenticatesAndLeaves_IsLoggedAndCountedAtEachStep()
    {
        var connection = _testbed.Open();
        var pendingAfterOpen = _measurements.Total("signalrsecure.connections.pending");

        await _testbed.AuthenticateAsync(connection);
        var afterAuthenticate = (_measurements.Total("signalrsecure.connections.pending"), _measurements.Total("signalrsecure.connections.authenticated"));
        await GateTestbed.DisconnectAsync(connection);

        Assert.Equal(1, pendingAfterOpen);
        Assert.Equal((0, 1), afterAuthenticate);
        Assert.Equal(0, _measurements.Total("signalrsecure.connections.authenticated"));
        Assert.Equal(["ConnectionOpened", "Authenticated", "ConnectionClosed"], EventsOf(connection));
        Assert.EndsWith("client left", _testbed.Logs.WithEvent("ConnectionClosed").Single().Message, StringComparison.Ordinal);
        Assert.Contains("alice", _testbed.Logs.WithEvent("Authenticated").Single().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PendingConnectionThatLeaves_IsCountedOff()
    {
        var connection = _testbed.Open();

        await GateTestbed.DisconnectAsync(connection);

        Assert.Equal(0, _measurements.Total("signalrsecure.connections.pending"));
        Assert.Equal(0, _measurements.Total("signalrsecure.connections.authenticated"));
    }

    [Fact]
    public async Task ClosedConnection_LogsItsCloseReason()
    {
        var connection = _testbed.Open();
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);

        await GateTestbed.DisconnectAsync(connection);

        Assert.EndsWith(CloseReasons.AuthenticationTimeout, _testbed.Logs.WithEvent("ConnectionClosed").Single().Message, StringComparison.Ordinal);
        Assert.Single(_testbed.Logs.WithEvent("AuthenticationTimedOut"));
        Assert.Equal(1, _measurements.Total("signalrsecure.authentication.timeouts"));
    }

    [Fact]
    public async Task SessionExpiry_IsNotCountedAsAnAuthenticationTimeout()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        _testbed.Time.Advance(_testbed.Options.SessionLifetime);

        Assert.Equal(CloseReasons.SessionExpired, connection.Gate.CloseReason);
        Assert.Empty(_testbed.Logs.WithEvent("AuthenticationTimedOut"));
        Assert.Equal(0, _measurements.Total("signalrsecure.authentication.timeouts"));
    }

    [Theory]
    [InlineData("not-a-ticket", "Malformed")]
    [InlineData("0000000000000000000000000000000000000000000", "Unknown")]
    public async Task RefusedTicket_IsLoggedAndCountedWithItsReason(string ticket, string reason)
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());

        await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, ticket));

        Assert.EndsWith(reason, _testbed.Logs.WithEvent("AuthenticationFailed").Single().Message, StringComparison.Ordinal);
        Assert.Equal(1, _measurements.Total("signalrsecure.authentication.failures", reason));
        Assert.Empty(_testbed.Logs.WithEvent("AddressLockedOut"));
    }

    [Fact]
    public async Task FailureThatLocksTheAddressOut_IsLoggedOnce_AndLaterAttemptsAsLockedOut()
    {
        var threshold = new AspNetCore.Protection.ProtectionOptions().AuthenticationFailuresPerIp;
        for (var i = 0; i <= threshold; i++)
        {
            var connection = _testbed.Open(clientIp: "203.0.113.8");
            Assert.True(connection.Gate.TryBeginAuthentication());
            await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, "wrong"));
        }

        Assert.Single(_testbed.Logs.WithEvent("AddressLockedOut"));
        Assert.Equal(threshold, _measurements.Total("signalrsecure.authentication.failures", "Malformed"));
        Assert.Equal(1, _measurements.Total("signalrsecure.authentication.failures", GateKeeper.LockedOutReason));
    }

    [Fact]
    public async Task Reauthenticate_IsLoggedWithTheUser()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync());

        Assert.Contains("alice", _testbed.Logs.WithEvent("Reauthenticated").Single().Message, StringComparison.Ordinal);
        Assert.Empty(_testbed.Logs.WithEvent("GroupsChanged"));
    }

    [Fact]
    public async Task Reauthenticate_WithAnotherUsersTicket_IsRefusedAsWrongUserAndCloses()
    {
        // Arrange
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var bobsTicket = await _testbed.IssueAsync(user: "bob", groups: ["admin"]);

        // Act
        var refused = await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.ReauthenticateAsync(connection.Gate, bobsTicket));

        // Assert: alice keeps none of bob's rights; the connection closes as a failed authentication.
        Assert.Equal(HubErrors.AuthenticationFailed, refused.Message);
        Assert.Equal(1, _measurements.Total("signalrsecure.authentication.failures", "WrongUser"));
        Assert.EndsWith("WrongUser", _testbed.Logs.WithEvent("AuthenticationFailed").Single().Message, StringComparison.Ordinal);
        Assert.Equal(["general", "ops"], connection.Gate.Groups);
        Assert.Empty(_testbed.Logs.WithEvent("Reauthenticated"));
    }

    [Fact]
    public async Task Authenticate_Twice_IsRefusedAsAlreadyAuthenticatedAndKeepsTheIdentity()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var secondTicket = await _testbed.IssueAsync(user: "bob");

        var refused = await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, secondTicket));

        Assert.Equal(HubErrors.AlreadyAuthenticated, refused.Message);
        Assert.Equal("alice", connection.Gate.User);
        Assert.Single(_testbed.Logs.WithEvent("Authenticated"));
    }

    [Fact]
    public async Task Reauthenticate_WithOtherGroups_LogsTheChange()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        await _testbed.Keeper.ReauthenticateAsync(connection.Gate, await _testbed.IssueAsync(groups: ["general"]));

        Assert.Single(_testbed.Logs.WithEvent("GroupsChanged"));
    }

    [Theory]
    [InlineData(false, "invocation", "InvocationRateLimited")]
    [InlineData(true, "user-invocation", "UserInvocationRateLimited")]
    public async Task RateLimitedInvocation_IsLoggedAndCountedByLimit(bool userLimit, string limit, string eventName)
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        _testbed.Keeper.OnRateLimited(connection.Gate, userLimit);

        Assert.Single(_testbed.Logs.WithEvent(eventName));
        Assert.Equal(1, _measurements.Total("signalrsecure.ratelimit.rejections", limit));
        Assert.Equal(1, _measurements.Total("signalrsecure.ratelimit.rejections"));
    }

    [Theory]
    [InlineData(CloseReasons.RateLimited, "signalrsecure.ratelimit.rejections", "messages")]
    [InlineData(CloseReasons.MessageTooLarge, "signalrsecure.protocol.violations", CloseReasons.MessageTooLarge)]
    public async Task RefusedMessages_AreLoggedAndCountedAsTheirKind(string closeReason, string instrument, string tag)
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        connection.Gate.RefuseAfterAuthentication(closeReason);
        connection.Gate.RefuseAfterAuthentication(closeReason);

        Assert.EndsWith(closeReason, _testbed.Logs.WithEvent("MessagesRefused").Single().Message, StringComparison.Ordinal);
        Assert.Equal(1, _measurements.Total(instrument, tag));
        Assert.Equal(closeReason, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task AuthenticatedConnection_UsesItsInvocationBurstThenIsRefused()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        var taken = Enumerable.Range(0, _testbed.Options.InvocationBurst + 1).Select(_ => connection.Gate.TryTakeInvocation()).ToList();
        _testbed.Time.Advance(TimeSpan.FromSeconds(1));
        var refilled = Enumerable.Range(0, _testbed.Options.InvocationsPerSecond + 1).Count(_ => connection.Gate.TryTakeInvocation());

        Assert.Equal([.. Enumerable.Repeat(true, _testbed.Options.InvocationBurst), false], taken);
        Assert.Equal(_testbed.Options.InvocationsPerSecond, refilled);
    }

    [Fact]
    public async Task AuthenticatedConnection_SharesTheUserBudgetWithTheUsersOtherConnections()
    {
        var first = _testbed.Open();
        var second = _testbed.Open();
        await _testbed.AuthenticateAsync(first);
        await _testbed.AuthenticateAsync(second);

        var fromFirst = 0;
        for (var i = 0; i < _testbed.Options.UserInvocationBurst; i++)
        {
            fromFirst += await first.Gate.TryTakeUserInvocationAsync() ? 1 : 0;
        }

        var fromSecond = await second.Gate.TryTakeUserInvocationAsync();

        Assert.Equal(_testbed.Options.UserInvocationBurst, fromFirst);
        Assert.False(fromSecond);
        Assert.True(await _testbed.Open().Gate.TryTakeUserInvocationAsync());
    }

    [Fact]
    public async Task RateLimitStrikes_RunOutAfterTheConfiguredNumber()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        var strikes = Enumerable.Range(0, _testbed.Options.RateLimitStrikesBeforeClose + 1).Select(_ => connection.Gate.TryTakeRateLimitStrike()).ToList();

        Assert.Equal([.. Enumerable.Repeat(true, _testbed.Options.RateLimitStrikesBeforeClose), false], strikes);
    }

    [Fact]
    public void Open_LogsTheRemoteAddress()
    {
        _testbed.Open(clientIp: "198.51.100.23");

        Assert.Contains(IPAddress.Parse("198.51.100.23").ToString(), _testbed.Logs.WithEvent("ConnectionOpened").Single().Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _measurements.Dispose();
        _testbed.Dispose();
    }

    private List<string?> EventsOf(TestConnection connection) =>
        [.. _testbed.Logs.Records.Where(r => r.Message.Contains(connection.Gate.ConnectionId, StringComparison.Ordinal)).Select(r => r.EventId.Name)];

    /// <summary>Every measurement of the testbed's meters: totals by instrument, and by instrument and tag value.</summary>
    internal sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _totals = [];

        public Measurements(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                lock (_totals)
                {
                    _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value;
                    foreach (var tag in tags)
                    {
                        var key = $"{instrument.Name}|{tag.Value}";
                        _totals[key] = _totals.GetValueOrDefault(key) + value;
                    }
                }
            });
            _listener.Start();
        }

        public long Total(string instrument, string? tag = null)
        {
            lock (_totals)
            {
                return _totals.GetValueOrDefault(tag is null ? instrument : $"{instrument}|{tag}");
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
