using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>The global pace of new connections: its queue, its one timer, and its end.</summary>
public sealed class NewConnectionPaceTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task WaitForTurnAsync_MoreArrivalsWhileWaiting_DoNotPushTheFirstTurnBack()
    {
        // Arrange: the burst used up; one token every 100 ms.
        using var pace = Pace(perSecond: 10, burst: 1, queueLimit: 10);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var first = pace.WaitForTurnAsync(CancellationToken.None).AsTask();

        // Act: a steady stream of arrivals behind the first.
        var later = new List<Task<bool>>();
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(25));
            later.Add(pace.WaitForTurnAsync(CancellationToken.None).AsTask());
        }

        // Assert: 100 ms after it arrived, the first is in; the others follow one per 100 ms.
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.All(later, turn => Assert.False(turn.IsCompleted));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await later[0].WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(later[1].IsCompleted);
    }

    [Fact]
    public async Task WaitForTurnAsync_WhileOthersWait_QueuesBehindThemEvenWithATokenAtHand()
    {
        // Arrange: a burst of 2, used up; one waiter queued.
        using var pace = Pace(perSecond: 10, burst: 2, queueLimit: 10);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var first = pace.WaitForTurnAsync(CancellationToken.None).AsTask();

        // Act: 100 ms let the first in; a newcomer then finds the queue empty again and the bucket empty too.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        var second = pace.WaitForTurnAsync(CancellationToken.None).AsTask();
        var secondAtOnce = second.IsCompleted;
        _time.Advance(TimeSpan.FromMilliseconds(100));

        // Assert
        Assert.False(secondAtOnce);
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitForTurnAsync_QueueOfExactlyTheLimit_IsAccepted()
    {
        using var pace = Pace(perSecond: 10, burst: 1, queueLimit: 3);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));

        var queued = Enumerable.Range(0, 3).Select(_ => pace.WaitForTurnAsync(CancellationToken.None).AsTask()).ToList();
        var overTheLimit = await pace.WaitForTurnAsync(CancellationToken.None);

        Assert.All(queued, turn => Assert.False(turn.IsCompleted));
        Assert.False(overTheLimit);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.All(await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(10)), Assert.True);
    }

    [Fact]
    public async Task Dispose_WithConnectionsWaiting_TellsThemNoTurnAndStopsTheTimer()
    {
        var pace = Pace(perSecond: 10, burst: 1, queueLimit: 5);
        var timersBefore = _time.TimerCount;
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiting = Enumerable.Range(0, 2).Select(_ => pace.WaitForTurnAsync(CancellationToken.None).AsTask()).ToList();

        pace.Dispose();

        Assert.All(await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10)), Assert.False);
        Assert.Equal(timersBefore - 1, _time.TimerCount);
    }

    [Fact]
    public async Task WaitForTurnAsync_IdlePace_ArmsNoTimer()
    {
        using var pace = Pace(perSecond: 10, burst: 5, queueLimit: 5);

        for (var i = 0; i < 5; i++)
        {
            Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        }

        Assert.False(_time.WhenTimerPendingAsync().IsCompleted);
    }

    [Fact]
    public async Task WaitForTurnAsync_WaiterCancelled_IsCancelledAndTakesNoTurnFromTheNext()
    {
        // Arrange: the burst used up; two connections wait, one token every 100 ms.
        using var pace = Pace(perSecond: 10, burst: 1, queueLimit: 5);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        using var gaveUp = new CancellationTokenSource();
        var first = pace.WaitForTurnAsync(gaveUp.Token).AsTask();
        var second = pace.WaitForTurnAsync(CancellationToken.None).AsTask();

        // Act
        await gaveUp.CancelAsync();
        _time.Advance(TimeSpan.FromMilliseconds(100));

        // Assert: the first left the queue cancelled; the next token went to the second, on time.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitForTurnAsync_RateAboveOneTokenPerTick_LetsWaitersInEveryTwoMilliseconds()
    {
        // Arrange: 1,000 a second is a token a millisecond, but the timer ticks at most every 2 ms.
        using var pace = Pace(perSecond: 1000, burst: 2, queueLimit: 10);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiting = Enumerable.Range(0, 3).Select(_ => pace.WaitForTurnAsync(CancellationToken.None).AsTask()).ToList();

        // Act
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var afterOne = waiting.Count(turn => turn.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Task.WhenAll(waiting[0], waiting[1]).WaitAsync(TimeSpan.FromSeconds(10));
        var afterTwo = waiting.Count(turn => turn.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(2));

        // Assert: nobody before the first tick, then the two tokens of those 2 ms together, the last one at the next tick.
        Assert.Equal(0, afterOne);
        Assert.Equal(2, afterTwo);
        Assert.True(await waiting[2].WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitForTurnAsync_SlowRate_WaitsTheWholeTokenTime()
    {
        // Arrange: 2 a second, so a waiter's turn comes 500 ms after the burst ran out, not at the 2 ms tick.
        using var pace = Pace(perSecond: 2, burst: 1, queueLimit: 5);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiter = pace.WaitForTurnAsync(CancellationToken.None).AsTask();

        // Act
        _time.Advance(TimeSpan.FromMilliseconds(499));
        var inEarly = waiter.IsCompleted;
        _time.Advance(TimeSpan.FromMilliseconds(1));

        // Assert
        Assert.False(inEarly);
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitForTurnAsync_SlowRate_WakesOnceForTheTokenNotEveryTick()
    {
        // Arrange: 2 a second; one waiter, whose token is 500 ms away.
        var time = new CountingTimeProvider(_time);
        using var pace = Pace(perSecond: 2, burst: 1, queueLimit: 5, time);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiter = pace.WaitForTurnAsync(CancellationToken.None).AsTask();

        // Act
        _time.Advance(TimeSpan.FromMilliseconds(500));

        // Assert: the timer fired once, when the token came, rather than every 2 ms until then.
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, time.Firings);
    }

    [Fact]
    public async Task WaitForTurnAsync_QueueEmptied_DisarmsTheTimer()
    {
        // Arrange: the burst used up; two waiters, one token every 100 ms.
        var time = new CountingTimeProvider(_time);
        using var pace = Pace(perSecond: 10, burst: 1, queueLimit: 5, time);
        Assert.True(await pace.WaitForTurnAsync(CancellationToken.None));
        var waiting = Enumerable.Range(0, 2).Select(_ => pace.WaitForTurnAsync(CancellationToken.None).AsTask()).ToList();

        // Act
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10));
        var timerArmedAfter = _time.WhenTimerPendingAsync().IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(10));

        // Assert: a tick per waiter, and none once nobody waits.
        Assert.False(timerArmedAfter);
        Assert.Equal(2, time.Firings);
    }

    private NewConnectionPace Pace(int perSecond, int burst, int queueLimit, TimeProvider? time = null) =>
        new(Options.Create(new ProtectionOptions { NewConnectionsPerSecond = perSecond, NewConnectionBurst = burst, NewConnectionQueueLimit = queueLimit }), time ?? _time);

    /// <summary>The manual clock, counting how often its timers fire.</summary>
    private sealed class CountingTimeProvider(ManualTimeProvider inner) : TimeProvider
    {
        private int _firings;

        public int Firings => Volatile.Read(ref _firings);

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(
                s =>
                {
                    Interlocked.Increment(ref _firings);
                    callback(s);
                },
                state,
                dueTime,
                period);
    }
}
