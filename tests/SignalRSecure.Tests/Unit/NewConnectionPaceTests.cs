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

    private NewConnectionPace Pace(int perSecond, int burst, int queueLimit) =>
        new(Options.Create(new ProtectionOptions { NewConnectionsPerSecond = perSecond, NewConnectionBurst = burst, NewConnectionQueueLimit = queueLimit }), _time);
}
