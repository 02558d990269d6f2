namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The deadlines of every gated connection (authentication, then session expiry) on one timer: a coarse-tick
/// scheduler on the injected <see cref="TimeProvider"/>. A deadline is rounded up to the next multiple of
/// <see cref="SecureHubOptions.DeadlinePrecision"/> (counted from the scheduler's start) and put in that tick's list;
/// the one timer fires at the earliest tick that holds a deadline, so a connection is closed at its deadline or at most
/// one precision after it, never before.
/// </summary>
/// <remarks>
/// A timer per connection cost about 130 bytes of heap for the connection's life (the timer, its holder and the time
/// provider's wrapper). Here the lists are intrusive (each gate holds its own links and tick), so a connection's
/// deadline costs no allocation at all; a tick's list head is one dictionary entry, shared by every connection due in
/// that tick. All of it is guarded by one lock, taken once per connection when its deadline is set, moved or dropped,
/// and once per tick that fires.
/// </remarks>
internal sealed class GateDeadlines
{
    // Further than any option allows (a day at most), and far from overflowing when rounded up to a tick.
    private static readonly long MaximumDueIn = TimeSpan.FromDays(365).Ticks;

    // A timer's longest due time; a tick further away is reached by firing early and arming again.
    private static readonly long MaximumTimerDue = TimeSpan.FromDays(30).Ticks;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long _precision;
    private readonly long _origin;
    private readonly ITimer _timer;
    private readonly Dictionary<long, ConnectionGate> _ticks = [];
    private readonly PriorityQueue<long, long> _order = new();
    private long _armedTick = long.MaxValue;

    public GateDeadlines(TimeProvider time, TimeSpan precision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(precision, TimeSpan.Zero);
        _time = time;
        _precision = precision.Ticks;
        _origin = time.GetTimestamp();
        _timer = time.CreateTimer(static state => ((GateDeadlines)state!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The number of connections with a deadline pending (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                var count = 0;
                foreach (var (_, first) in _ticks)
                {
                    for (var gate = first; gate is not null; gate = gate.DeadlineNext)
                    {
                        count++;
                    }
                }

                return count;
            }
        }
    }

    /// <summary>Sets (or moves) <paramref name="gate"/>'s deadline to <paramref name="dueIn"/> from now.</summary>
    public void Schedule(ConnectionGate gate, TimeSpan dueIn)
    {
        var now = Now();
        var due = now + Math.Clamp(dueIn.Ticks, 0, MaximumDueIn);

        // Rounded up: a deadline never fires before it is due. Tick 0 stands for "none", hence at least 1.
        var tick = Math.Max(1, (due + _precision - 1) / _precision);
        lock (_lock)
        {
            Unlink(gate);
            gate.DeadlineTick = tick;
            if (_ticks.Remove(tick, out var first))
            {
                gate.DeadlineNext = first;
                first.DeadlinePrevious = gate;
            }
            else
            {
                _order.Enqueue(tick, tick);
            }

            _ticks[tick] = gate;
            // Stryker disable once Equality: equivalent, arming again for the armed tick sets the timer to the same instant
            if (tick < _armedTick)
            {
                Arm(tick, now);
            }
        }
    }

    /// <summary>Drops <paramref name="gate"/>'s deadline, if it has one.</summary>
    public void Cancel(ConnectionGate gate)
    {
        lock (_lock)
        {
            // The timer stays armed: firing once for an empty tick costs less than finding the next one here.
            Unlink(gate);
        }
    }

    private long Now() => _time.GetElapsedTime(_origin).Ticks;

    private void Arm(long tick, long now)
    {
        _armedTick = tick;
        _timer.Change(TimeSpan.FromTicks(Math.Clamp((tick * _precision) - now, 0, MaximumTimerDue)), Timeout.InfiniteTimeSpan);
    }

    private void Unlink(ConnectionGate gate)
    {
        // Stryker disable once Block,Statement: equivalent, a gate without a deadline has no links and tick 0 is never a key, so the rest changes nothing
        if (gate.DeadlineTick == 0)
        {
            return;
        }

        var next = gate.DeadlineNext;
        var previous = gate.DeadlinePrevious;
        if (next is not null)
        {
            next.DeadlinePrevious = previous;
        }

        if (previous is not null)
        {
            previous.DeadlineNext = next;
        }
        else if (next is not null)
        {
            _ticks[gate.DeadlineTick] = next;
        }
        else
        {
            // The tick's last connection: its entry in the order stays and is skipped when it comes up.
            _ticks.Remove(gate.DeadlineTick);
        }

        gate.DeadlineNext = null;
        gate.DeadlinePrevious = null;
        gate.DeadlineTick = 0;
    }

    private void OnTick()
    {
        List<ConnectionGate>? due = null;
        lock (_lock)
        {
            var now = Now();
            _armedTick = long.MaxValue;

            // Timers may fire a little early: only the ticks whose time has come are taken.
            while (_order.TryPeek(out var tick, out _) && tick * _precision <= now)
            {
                _order.Dequeue();
                // Stryker disable once Block,Statement: equivalent, without the continue the list of a tick whose connections all left is null and adds nothing
                if (!_ticks.Remove(tick, out var first))
                {
                    continue;
                }

                due ??= [];
                for (var gate = first; gate is not null;)
                {
                    var next = gate.DeadlineNext;
                    gate.DeadlineNext = null;
                    gate.DeadlinePrevious = null;
                    gate.DeadlineTick = 0;
                    due.Add(gate);
                    gate = next;
                }
            }

            while (_order.TryPeek(out var tick, out _))
            {
                if (_ticks.ContainsKey(tick))
                {
                    Arm(tick, now);
                    break;
                }

                _order.Dequeue();
            }
        }

        // Outside the lock: a deadline closes its connection, or moves itself, which schedules or cancels deadlines.
        if (due is not null)
        {
            foreach (var gate in due)
            {
                gate.OnDeadline();
            }
        }
    }
}
