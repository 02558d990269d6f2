using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>
/// The global budget of password verifications: at most <see cref="LoginOptions.MaxConcurrentVerifications"/> run at
/// once, each on a dedicated thread, and at most <see cref="LoginOptions.VerificationQueueLimit"/> wait for a thread,
/// first come first served; beyond that a verification is refused at once.
/// </summary>
/// <remarks>
/// PBKDF2 at 600,000 iterations is about 150 ms of CPU. On the thread pool, a few dozen concurrent logins hold every
/// pool thread, the pool injects more, and <c>/healthz</c> and every hub message wait seconds behind them. Dedicated
/// threads bound the CPU that logins take to their number and leave the pool to Kestrel and SignalR.
/// </remarks>
internal sealed class PasswordVerificationBudget : IDisposable
{
    // Long enough for a running verification to finish, short enough that a directory that ignores cancellation
    // cannot hold up the host's shutdown for long.
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    // Weight of the latest duration in the running average that Retry-After is estimated from.
    private const double AverageWeight = 0.125;

    // setpriority's PRIO_PROCESS, which on Linux takes a thread id; nice 10 is a CFS weight of 110 against 1024 at nice 0.
    private const int PriorityOfProcess = 0;
    private const int LinuxNiceness = 10;

    // Monitor (not Lock) because the threads wait on it for work.
    private readonly object _gate = new();
    private readonly LinkedList<WorkItem> _waiting = new();
    private readonly Thread[] _threads;

    // When each thread started its current work (0 when idle): before the first verification completes, the
    // longest-running one is the only measure of their cost.
    private readonly long[] _startedAt;
    private readonly int _queueLimit;
    private readonly TimeProvider _time;
    private int _running;
    private double _averageTicks;
    private bool _disposed;

    public PasswordVerificationBudget(IOptions<LoginOptions> options, TimeProvider time)
    {
        _time = time;
        _queueLimit = options.Value.VerificationQueueLimit;
        _threads = new Thread[options.Value.MaxConcurrentVerifications];
        _startedAt = new long[_threads.Length];
        for (var i = 0; i < _threads.Length; i++)
        {
            // Background: a verification that never returns must not keep the process alive.
            _threads[i] = new Thread(Serve)
            {
                IsBackground = true,
                Name = $"SignalRSecure password verification {i + 1}",
                Priority = ThreadPriority.BelowNormal,
            };
            _threads[i].Start(i);
        }
    }

    /// <summary>
    /// Queues <paramref name="work"/> to run on one of the budget's threads; false, with an estimate of the queue's
    /// wait, when every thread is busy and the queue is full. A caller whose <paramref name="cancellationToken"/> is
    /// cancelled while queued leaves the queue and the work never runs.
    /// </summary>
    public bool TryEnqueue<T>(
        Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken,
        [NotNullWhen(true)] out Task<T>? completion, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(work);
        var item = new WorkItem<T>(this, work, cancellationToken);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_waiting.Count + _running >= _threads.Length + _queueLimit)
            {
                completion = null;
                retryAfter = EstimateWaitLocked();
                return false;
            }

            item.Node = _waiting.AddLast(item);

            // Registered under the lock, so that no thread can take the item before its registration exists; an
            // already cancelled token runs the callback here, which re-enters the lock and removes the item again.
            item.Registration = cancellationToken.UnsafeRegister(static state => ((WorkItem)state!).CancelIfWaiting(), item);
            Monitor.Pulse(_gate);
        }

        completion = item.Completion.Task;
        retryAfter = TimeSpan.Zero;
        return true;
    }

    /// <summary>
    /// Refuses new work, cancels the queued work, and waits (up to 5 s per thread) for the threads to finish what they
    /// are running.
    /// </summary>
    public void Dispose()
    {
        List<WorkItem> abandoned;
        lock (_gate)
        {
            // Stryker disable once Statement,Block: equivalent, the host disposes the singleton once; a second Dispose finds the queue empty and only joins the threads the first one stopped
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            abandoned = [.. _waiting];
            _waiting.Clear();
            Monitor.PulseAll(_gate);
        }

        foreach (var item in abandoned)
        {
            item.Abandon();
        }

        foreach (var thread in _threads)
        {
            if (thread != Thread.CurrentThread)
            {
                thread.Join(StopTimeout);
            }
        }
    }

    // The time the work already in the budget needs: queued and running items shared out over the threads.
    private TimeSpan EstimateWaitLocked()
    {
        var cost = _averageTicks;
        foreach (var started in _startedAt)
        {
            if (started != 0)
            {
                cost = Math.Max(cost, _time.GetElapsedTime(started).Ticks);
            }
        }

        return TimeSpan.FromTicks((long)(cost * (_waiting.Count + _running) / _threads.Length));
    }

    private void Serve(object? index)
    {
        var slot = (int)index!;
        LowerLinuxThreadPriority();
        while (true)
        {
            WorkItem item;
            lock (_gate)
            {
                while (_waiting.First is null && !_disposed)
                {
                    Monitor.Wait(_gate);
                }

                if (_disposed)
                {
                    return;
                }

                item = _waiting.First!.Value;
                _waiting.RemoveFirst();
                _running++;
                _startedAt[slot] = _time.GetTimestamp();
            }

            var ran = item.Run();
            lock (_gate)
            {
                var ticks = _time.GetElapsedTime(_startedAt[slot]).Ticks;
                _startedAt[slot] = 0;
                _running--;
                if (ran)
                {
                    _averageTicks = _averageTicks == 0 ? ticks : _averageTicks + (AverageWeight * (ticks - _averageTicks));
                }
            }
        }
    }

    // Thread.Priority changes nothing on Linux, where a thread's nice value is its priority: at nice 10 a verification
    // thread gets about a tenth of the CPU share of Kestrel's and SignalR's threads whenever they want the same core.
    private static void LowerLinuxThreadPriority()
    {
        // Stryker disable once Statement,Block: unreachable on Linux, where the tests run; elsewhere (no gettid in macOS's or the BSDs' libc, no libc on Windows) the catch below makes the calls the same no-op
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = SetPriority(PriorityOfProcess, GetThreadId(), LinuxNiceness);
        }
        // Stryker disable once Equality: unreachable in the tests, whose glibc has gettid; only a libc without it (glibc before 2.30, such as RHEL 8's 2.28) throws here
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // A libc without gettid: the threads keep the default priority.
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    [DllImport("libc", EntryPoint = "setpriority")]
    private static extern int SetPriority(int which, int who, int priority);

    private abstract class WorkItem(PasswordVerificationBudget owner)
    {
        public LinkedListNode<WorkItem>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Runs on a budget thread, outside the lock; false when cancelled before the work started. Never throws.</summary>
        public abstract bool Run();

        public abstract void Abandon();

        public void CancelIfWaiting()
        {
            lock (owner._gate)
            {
                // Once a thread has taken the item it runs (or sees the cancellation itself in Run).
                if (Node?.List is null)
                {
                    return;
                }

                owner._waiting.Remove(Node);
            }

            Abandon();
        }
    }

    private sealed class WorkItem<T>(PasswordVerificationBudget owner, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
        : WorkItem(owner)
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool Run()
        {
            // Waits for a cancellation callback in progress, which then finds the item gone from the queue.
            Registration.Dispose();
            if (cancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancellationToken);
                return false;
            }

            try
            {
                var pending = work(cancellationToken);

                // A directory that completes asynchronously holds its thread, and so its share of the budget, until
                // it is done. The thread has no synchronization context, so blocking cannot deadlock.
                // Stryker disable once Conditional: equivalent for (false), AsTask of a completed ValueTask gives the same result and only allocates; (true) is killed by TryEnqueue_WorkCompletingLaterOnAValueTaskSource_HandsTheCallerItsResult
                Completion.TrySetResult(pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Completion.TrySetCanceled(cancellationToken);
            }
            catch (Exception ex)
            {
                Completion.TrySetException(ex);
            }

            return true;
        }

        public override void Abandon()
        {
            Registration.Dispose();
            Completion.TrySetCanceled(cancellationToken.IsCancellationRequested ? cancellationToken : new CancellationToken(canceled: true));
        }
    }
}
