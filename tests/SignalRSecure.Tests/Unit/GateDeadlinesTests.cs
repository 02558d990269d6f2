using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// Every connection's deadline on one shared timer (<see cref="GateDeadlines"/>), on the fake clock: no timer per
/// connection, a deadline closes at most <see cref="SecureHubOptions.DeadlinePrecision"/> late and never early, and a
/// connection that ends leaves nothing behind.
/// </summary>
public sealed class GateDeadlinesTests : IDisposable
{
    private readonly GateTestbed _testbed = new();

    [Fact]
    public async Task Open_ManyConnections_CreateNoTimerOfTheirOwn()
    {
        // Arrange: the keeper's shared timer exists already, armed by a first connection.
        var first = _testbed.Open();
        var timersBefore = _testbed.Time.TimerCount;

        // Act
        var connections = Enumerable.Range(2, 50).Select(i => _testbed.Open(clientIp: $"127.0.0.{i}")).ToList();
        await _testbed.AuthenticateAsync(first);

        // Assert
        Assert.Equal(timersBefore, _testbed.Time.TimerCount);
        Assert.Equal(51, _testbed.Keeper.Deadlines.Count);
        Assert.Equal(50, connections.Count);
    }

    [Fact]
    public async Task Deadline_BetweenTicks_ClosesAtTheNextTickAndNeverBefore()
    {
        // Arrange: a connection opened a quarter tick after a tick boundary is due a quarter tick after one, too.
        var precision = _testbed.Options.DeadlinePrecision;
        var offset = precision / 4;
        _testbed.Time.Advance(offset);
        var connection = _testbed.Open();

        // Act
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout - TimeSpan.FromTicks(1));
        var closedBeforeTheDeadline = connection.HasWritten();
        _testbed.Time.Advance(precision - offset);
        var closedBeforeTheTick = connection.HasWritten();
        _testbed.Time.Advance(TimeSpan.FromTicks(1));

        // Assert
        Assert.False(closedBeforeTheDeadline);
        Assert.False(closedBeforeTheTick);
        Assert.Contains("\"error\":\"authentication timeout\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnect_PendingDeadlines_LeavesNoEntryBehind()
    {
        // Arrange: one connection awaiting authentication, one authenticated (its session's deadline pending).
        var waiting = _testbed.Open();
        var authenticated = _testbed.Open();
        await _testbed.AuthenticateAsync(authenticated);
        var pendingBefore = _testbed.Keeper.Deadlines.Count;

        // Act
        await GateTestbed.DisconnectAsync(waiting).WaitAsync(TimeSpan.FromSeconds(10));
        await GateTestbed.DisconnectAsync(authenticated).WaitAsync(TimeSpan.FromSeconds(10));
        _testbed.Time.Advance(SecureHubOptions.DefaultSessionLifetime);

        // Assert: the shared lists hold no reference to a gone connection, and its deadline never fires.
        Assert.Equal(2, pendingBefore);
        Assert.Equal(0, _testbed.Keeper.Deadlines.Count);
        Assert.Null(waiting.Gate.CloseReason);
        Assert.Null(authenticated.Gate.CloseReason);
    }

    [Fact]
    public async Task Deadlines_ManyInOneTick_AllClose()
    {
        // Arrange
        var connections = Enumerable.Range(2, 20).Select(i => _testbed.Open(clientIp: $"127.0.0.{i}")).ToList();
        var authenticated = _testbed.Open();
        await _testbed.AuthenticateAsync(authenticated);

        // Act
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);

        // Assert: every waiting connection closed; the authenticated one waits for its session's end.
        foreach (var connection in connections)
        {
            Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
        }

        Assert.Null(authenticated.Gate.CloseReason);
        Assert.Equal(1, _testbed.Keeper.Deadlines.Count);
    }

    public void Dispose() => _testbed.Dispose();
}
