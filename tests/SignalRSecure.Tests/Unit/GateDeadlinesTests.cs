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

    [Fact]
    public void Constructor_PrecisionNotPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GateDeadlines(_testbed.Time, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GateDeadlines(_testbed.Time, TimeSpan.FromTicks(-1)));
    }

    [Fact]
    public void Deadline_OnATickBoundary_ClosesExactlyThenAndNotATickLater()
    {
        // Arrange: opened on a tick boundary, with a timeout a whole number of ticks long.
        var connection = _testbed.Open();

        // Act
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout - TimeSpan.FromTicks(1));
        var closedJustBefore = connection.Gate.CloseReason;
        _testbed.Time.Advance(TimeSpan.FromTicks(1));

        // Assert
        Assert.Null(closedJustBefore);
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
    }

    [Fact]
    public void Deadline_TimerFiringEarly_ClosesNothingBeforeTheDeadline()
    {
        // Arrange: the timer fires a whole tick early, as a real timer that rounds its due time may.
        var connection = _testbed.Open();
        _testbed.Time.NextFiringEarlyBy = _testbed.Options.DeadlinePrecision;

        // Act
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout - _testbed.Options.DeadlinePrecision);
        var closedEarly = connection.Gate.CloseReason;
        _testbed.Time.Advance(_testbed.Options.DeadlinePrecision);

        // Assert: the early firing took nothing and armed the timer again for the tick.
        Assert.Null(closedEarly);
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
    }

    [Fact]
    public void Schedule_FurtherThanATimerReaches_FiresOnTimeAfterArmingAgain()
    {
        // Arrange: 40 days, past the 30 days a timer is armed for at most.
        var connection = _testbed.Open();
        _testbed.Keeper.Deadlines.Schedule(connection.Gate, TimeSpan.FromDays(40));

        // Act
        _testbed.Time.Advance(TimeSpan.FromDays(40) - TimeSpan.FromTicks(1));
        var closedBefore = connection.Gate.CloseReason;
        var pendingBefore = _testbed.Keeper.Deadlines.Count;
        _testbed.Time.Advance(TimeSpan.FromTicks(1));

        // Assert
        Assert.Null(closedBefore);
        Assert.Equal(1, pendingBefore);
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
        Assert.Equal(0, _testbed.Keeper.Deadlines.Count);
    }

    [Fact]
    public void Schedule_InThePast_FiresAtTheNextTick()
    {
        var connection = _testbed.Open();
        _testbed.Time.Advance(_testbed.Options.DeadlinePrecision / 2);

        _testbed.Keeper.Deadlines.Schedule(connection.Gate, TimeSpan.FromMinutes(-5));
        var closedAtOnce = connection.Gate.CloseReason;
        _testbed.Time.Advance(_testbed.Options.DeadlinePrecision / 2);

        Assert.Null(closedAtOnce);
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
    }

    [Fact]
    public void Schedule_MovedEarlier_FiresAtTheNewTimeAndOnlyOnce()
    {
        // Arrange: a second connection keeps a later tick in the queue.
        var moved = _testbed.Open();
        var later = _testbed.Open(clientIp: "127.0.0.2");
        var tick = _testbed.Options.DeadlinePrecision;

        // Act: moved to three ticks from now, then the clock runs to the authentication timeout.
        _testbed.Keeper.Deadlines.Schedule(moved.Gate, tick * 3);
        _testbed.Time.Advance(tick * 3 - TimeSpan.FromTicks(1));
        var movedBefore = moved.Gate.CloseReason;
        _testbed.Time.Advance(TimeSpan.FromTicks(1));
        var movedAt = moved.Gate.CloseReason;
        var laterAtThatTime = later.Gate.CloseReason;
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout - (tick * 3));

        // Assert
        Assert.Null(movedBefore);
        Assert.Equal(CloseReasons.AuthenticationTimeout, movedAt);
        Assert.Null(laterAtThatTime);
        Assert.Equal(CloseReasons.AuthenticationTimeout, later.Gate.CloseReason);
        Assert.Equal(0, _testbed.Keeper.Deadlines.Count);
    }

    [Fact]
    public void Schedule_MovedLater_DoesNotFireAtTheOldTime()
    {
        var connection = _testbed.Open();

        _testbed.Keeper.Deadlines.Schedule(connection.Gate, _testbed.Options.AuthenticationTimeout * 2);
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);
        var closedAtTheOldTime = connection.Gate.CloseReason;
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);

        Assert.Null(closedAtTheOldTime);
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Cancel_OneOfThreeInATick_TheOthersStillClose(int cancelled)
    {
        // Arrange: three connections due in the same tick (the list's head is the last one scheduled).
        var connections = Enumerable.Range(2, 3).Select(i => _testbed.Open(clientIp: $"127.0.0.{i}")).ToList();

        // Act
        _testbed.Keeper.Deadlines.Cancel(connections[cancelled].Gate);
        var pending = _testbed.Keeper.Deadlines.Count;
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);

        // Assert
        Assert.Equal(2, pending);
        for (var i = 0; i < connections.Count; i++)
        {
            Assert.Equal(i == cancelled ? null : CloseReasons.AuthenticationTimeout, connections[i].Gate.CloseReason);
        }

        Assert.Equal(0, _testbed.Keeper.Deadlines.Count);
    }

    [Fact]
    public void Cancel_TheEarliestTick_TheNextTickStillFires()
    {
        // Arrange: the earliest deadline, on its own tick, is the one the timer is armed for.
        var early = _testbed.Open();
        var tick = _testbed.Options.DeadlinePrecision;
        _testbed.Keeper.Deadlines.Schedule(early.Gate, tick);
        _testbed.Time.Advance(tick / 2);
        var late = _testbed.Open(clientIp: "127.0.0.2");

        // Act
        _testbed.Keeper.Deadlines.Cancel(early.Gate);
        _testbed.Keeper.Deadlines.Cancel(early.Gate);
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout + tick);

        // Assert
        Assert.Null(early.Gate.CloseReason);
        Assert.Equal(CloseReasons.AuthenticationTimeout, late.Gate.CloseReason);
    }

    [Fact]
    public void Cancel_TheHeadOfATickThenTheNewHead_NeitherFires()
    {
        // Arrange: two connections due in the same tick; the second one scheduled heads the tick's list.
        var first = _testbed.Open(clientIp: "127.0.0.2");
        var second = _testbed.Open(clientIp: "127.0.0.3");

        // Act: the head leaves, then the connection that became the head leaves too.
        _testbed.Keeper.Deadlines.Cancel(second.Gate);
        _testbed.Keeper.Deadlines.Cancel(first.Gate);
        var pending = _testbed.Keeper.Deadlines.Count;
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout + _testbed.Options.DeadlinePrecision);

        // Assert: a cancelled deadline never closes its connection.
        Assert.Equal(0, pending);
        Assert.Null(first.Gate.CloseReason);
        Assert.Null(second.Gate.CloseReason);
    }

    [Fact]
    public void Deadlines_TimerFiringLate_ClosesEveryTickThatCameDue()
    {
        // Arrange: two connections due a tick apart, and a timer that fires a tick late (a busy thread pool), so that
        // one firing finds both ticks due.
        var precision = _testbed.Options.DeadlinePrecision;
        var earlier = _testbed.Open(clientIp: "127.0.0.2");
        _testbed.Time.Advance(precision);
        var later = _testbed.Open(clientIp: "127.0.0.3");
        _testbed.Time.NextFiringEarlyBy = -precision;

        // Act: the clock reaches the later deadline; the timer, due at the earlier one, fires only now.
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout - precision);
        var earlierBeforeTheFiring = earlier.Gate.CloseReason;
        _testbed.Time.Advance(precision);

        // Assert
        Assert.Null(earlierBeforeTheFiring);
        Assert.Equal(CloseReasons.AuthenticationTimeout, earlier.Gate.CloseReason);
        Assert.Equal(CloseReasons.AuthenticationTimeout, later.Gate.CloseReason);
        Assert.Equal(0, _testbed.Keeper.Deadlines.Count);
    }

    public void Dispose() => _testbed.Dispose();
}
