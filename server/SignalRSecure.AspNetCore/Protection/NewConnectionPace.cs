using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The global pace of new hub connections (<see cref="ProtectionOptions.NewConnectionsPerSecond"/>): a token bucket
/// with a first-come, first-served queue of connections waiting for their turn.
/// </summary>
/// <remarks>
/// Written on <see cref="TimeProvider"/> rather than <c>TokenBucketRateLimiter</c>, whose replenishment timer
/// wakes the process a hundred times a second even when nobody connects; this one arms its one timer only
/// while connections wait, and a fake clock can drive it in tests.
/// </remarks>
internal sealed class NewConnectionPace : IDisposable
{
    // Waiting connections are let in at most this often, several at a time at high rates, so that a queue does not
    // mean a timer tick per connection. Short, because the connections let in together start their upgrade and
    // handshake together, ahead of the messages of everyone already connected: at the default 1,000 a second a 10 ms
    // tick let 10 in at once, some 2.5 ms of one core's work in one lump; 2 ms lets in 2. The timer runs only while
    // connections wait.
    private static readonly TimeSpan MinimumTick = TimeSpan.FromMilliseconds(2);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private readonly int _queueLimit;
    private readonly Queue<TaskCompletionSource<bool>> _waiting = new();
    private readonly ITimer _timer;
    private TokenBucket _bucket;
    private bool _timerArmed;

    public NewConnectionPace(IOptions<ProtectionOptions> options, TimeProvider time)
    {
        _time = time;
        _perSecond = options.Value.NewConnectionsPerSecond;
        _burst = options.Value.NewConnectionBurst;
        _queueLimit = options.Value.NewConnectionQueueLimit;
        _bucket = new TokenBucket(_burst, time.GetTimestamp());
        _timer = time.CreateTimer(static state => ((NewConnectionPace)state!).LetWaitingIn(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Waits for the turn of a new connection; false when <see cref="ProtectionOptions.NewConnectionQueueLimit"/> connections already wait.</summary>
    public async ValueTask<bool> WaitForTurnAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> turn;
        lock (_lock)
        {
            if (_waiting.Count == 0 && _bucket.TryTake(_time, _perSecond, _burst))
            {
                return true;
            }

            if (_waiting.Count >= _queueLimit)
            {
                return false;
            }

            turn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Enqueue(turn);
            ArmTimer();
        }

        using var registration = cancellationToken.Register(static state => ((TaskCompletionSource<bool>)state!).TrySetCanceled(), turn);
        return await turn.Task;
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_lock)
        {
            while (_waiting.TryDequeue(out var turn))
            {
                turn.TrySetResult(false);
            }
        }
    }

    private void LetWaitingIn()
    {
        lock (_lock)
        {
            _timerArmed = false;
            while (_waiting.TryPeek(out var turn))
            {
                // A connection that gave up while waiting takes no token.
                if (turn.Task.IsCompleted)
                {
                    _waiting.Dequeue();
                    continue;
                }

                if (!_bucket.TryTake(_time, _perSecond, _burst))
                {
                    break;
                }

                // Stryker disable once Statement: equivalent, a turn left in the queue is completed, so the next pass of the loop dequeues it before anything else
                _waiting.Dequeue();
                turn.TrySetResult(true);
            }

            if (_waiting.Count > 0)
            {
                ArmTimer();
            }
        }
    }

    private void ArmTimer()
    {
        if (_timerArmed)
        {
            return;
        }

        _timerArmed = true;
        var untilNextToken = TimeSpan.FromSeconds(1 / _perSecond);
        // Stryker disable once Equality: equivalent for >=, at untilNextToken == MinimumTick both branches are the same time; the < it also skips is killed by WaitForTurnAsync_SlowRate_WakesOnceForTheTokenNotEveryTick
        _timer.Change(untilNextToken > MinimumTick ? untilNextToken : MinimumTick, Timeout.InfiniteTimeSpan);
    }
}
