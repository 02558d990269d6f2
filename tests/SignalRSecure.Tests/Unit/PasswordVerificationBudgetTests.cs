using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

public sealed class PasswordVerificationBudgetTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task TryEnqueue_MoreWorkThanThreads_RunsAtMostThatManyAtOnce()
    {
        using var budget = Budget(threads: 2, queueLimit: 10);
        var running = 0;
        var mostAtOnce = 0;
        var started = Gates(6);
        var release = Gates(6);
        var done = Enumerable.Range(0, 6).Select(i => Enqueue(budget, async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            started[i].TrySetResult();
            await release[i].Task.WaitAsync(Timeout);
            Interlocked.Decrement(ref running);
            return i;
        })).ToList();

        await Task.WhenAll(started[0].Task, started[1].Task).WaitAsync(Timeout);
        Assert.Equal(2, Volatile.Read(ref running));
        Assert.DoesNotContain(started.Skip(2), gate => gate.Task.IsCompleted);

        for (var i = 0; i < 6; i++)
        {
            release[i].TrySetResult();
            await done[i].WaitAsync(Timeout);
        }

        var results = await Task.WhenAll(done).WaitAsync(Timeout);
        Assert.Equal([0, 1, 2, 3, 4, 5], results);
        Assert.Equal(2, mostAtOnce);
    }

    [Fact]
    public async Task TryEnqueue_OneThread_RunsTheQueueInArrivalOrder()
    {
        using var budget = Budget(threads: 1, queueLimit: 10);
        var (first, release) = await OccupyAsync(budget);
        var order = new ConcurrentQueue<int>();
        var queued = Enumerable.Range(1, 8).Select(i => Enqueue(budget, _ =>
        {
            order.Enqueue(i);
            return ValueTask.FromResult(i);
        })).ToList();

        release.TrySetResult();
        await Task.WhenAll([first, .. queued]).WaitAsync(Timeout);

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], order);
    }

    [Fact]
    public async Task TryEnqueue_ThreadsBusyAndQueueFull_RefusesAtOnceWithTheQueuesWait()
    {
        using var budget = Budget(threads: 1, queueLimit: 2);

        // One verification of 2 s on the fake clock: the estimate of the queue's wait is built on it.
        await Enqueue(budget, _ =>
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            return ValueTask.FromResult(0);
        }).WaitAsync(Timeout);
        var (running, release) = await OccupyAsync(budget);
        var queued = new[] { Enqueue(budget, _ => ValueTask.FromResult(1)), Enqueue(budget, _ => ValueTask.FromResult(2)) };
        var refusedRan = false;

        var admitted = budget.TryEnqueue(
            _ =>
            {
                refusedRan = true;
                return ValueTask.FromResult(3);
            },
            CancellationToken.None, out var refused, out var retryAfter);

        Assert.False(admitted);
        Assert.Null(refused);
        Assert.Equal(TimeSpan.FromSeconds(6), retryAfter);
        release.TrySetResult();
        var results = await Task.WhenAll([running, .. queued]).WaitAsync(Timeout);
        Assert.Equal([0, 1, 2], results);
        Assert.False(refusedRan);
    }

    [Fact]
    public async Task TryEnqueue_QueueFullBeforeAnyVerificationFinished_EstimatesTheWaitFromTheRunningOne()
    {
        using var budget = Budget(threads: 1, queueLimit: 1);
        var (running, release) = await OccupyAsync(budget);
        var queued = Enqueue(budget, _ => ValueTask.FromResult(1));
        _time.Advance(TimeSpan.FromSeconds(3));

        var admitted = budget.TryEnqueue(_ => ValueTask.FromResult(2), CancellationToken.None, out _, out var retryAfter);

        Assert.False(admitted);
        Assert.Equal(TimeSpan.FromSeconds(6), retryAfter);
        release.TrySetResult();
        await Task.WhenAll(running, queued).WaitAsync(Timeout);
    }

    [Fact]
    public async Task TryEnqueue_QueueFull_EstimatesTheWaitFromTheRunningAverageOfPastVerifications()
    {
        // Arrange: verifications of 2 s and then 4 s make an average of 2 s + (4 s - 2 s) / 8 = 2.25 s.
        using var budget = Budget(threads: 1, queueLimit: 1);
        foreach (var seconds in new[] { 2, 4 })
        {
            await Enqueue(budget, _ =>
            {
                _time.Advance(TimeSpan.FromSeconds(seconds));
                return ValueTask.FromResult(0);
            }).WaitAsync(Timeout);
        }

        var (running, release) = await OccupyAsync(budget);
        var queued = Enqueue(budget, _ => ValueTask.FromResult(1));

        // Act
        var admitted = budget.TryEnqueue(_ => ValueTask.FromResult(2), CancellationToken.None, out _, out var retryAfter);

        // Assert: two verifications ahead on one thread, 2.25 s each.
        Assert.False(admitted);
        Assert.Equal(TimeSpan.FromSeconds(4.5), retryAfter);
        release.TrySetResult();
        await Task.WhenAll(running, queued).WaitAsync(Timeout);
    }

    [Fact]
    public async Task TryEnqueue_AllThreadsBusy_SharesTheEstimatedWaitOutOverTheThreads()
    {
        // Arrange: two threads, both busy for 3 s so far, no queue.
        using var budget = Budget(threads: 2, queueLimit: 0);
        var started = Gates(2);
        var release = Gates(2);
        var running = Enumerable.Range(0, 2).Select(i => Enqueue(budget, async _ =>
        {
            started[i].TrySetResult();
            await release[i].Task.WaitAsync(Timeout);
            return i;
        })).ToList();
        await Task.WhenAll(started.Select(gate => gate.Task)).WaitAsync(Timeout);
        _time.Advance(TimeSpan.FromSeconds(3));

        // Act
        var admitted = budget.TryEnqueue(_ => ValueTask.FromResult(2), CancellationToken.None, out _, out var retryAfter);

        // Assert: two 3 s verifications on two threads free one of them in 3 s.
        Assert.False(admitted);
        Assert.Equal(TimeSpan.FromSeconds(3), retryAfter);
        foreach (var gate in release)
        {
            gate.TrySetResult();
        }

        await Task.WhenAll(running).WaitAsync(Timeout);
    }

    [Fact]
    public async Task TryEnqueue_CancelledWhileQueued_NeverRunsAndGivesUpItsPlace()
    {
        using var budget = Budget(threads: 1, queueLimit: 1);
        var (running, release) = await OccupyAsync(budget);
        using var aborted = new CancellationTokenSource();
        var cancelledRan = false;
        var cancelled = Enqueue(
            budget,
            _ =>
            {
                cancelledRan = true;
                return ValueTask.FromResult(1);
            },
            aborted.Token);

        await aborted.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        var next = Enqueue(budget, _ => ValueTask.FromResult(2));
        release.TrySetResult();
        var results = await Task.WhenAll(running, next).WaitAsync(Timeout);
        Assert.Equal([0, 2], results);
        Assert.False(cancelledRan);
    }

    [Fact]
    public async Task TryEnqueue_AlreadyCancelled_NeverRuns()
    {
        using var budget = Budget(threads: 1, queueLimit: 1);
        var ran = false;

        var cancelled = Enqueue(
            budget,
            _ =>
            {
                ran = true;
                return ValueTask.FromResult(1);
            },
            new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        Assert.Equal(2, await Enqueue(budget, _ => ValueTask.FromResult(2)).WaitAsync(Timeout));
        Assert.False(ran);
    }

    [Fact]
    public async Task TryEnqueue_Work_RunsOnADedicatedLowPriorityThreadNotThePool()
    {
        using var budget = Budget(threads: 1, queueLimit: 0);

        var (thread, nice) = await Enqueue(budget, _ => ValueTask.FromResult((Thread.CurrentThread, LinuxNiceOfThisThread()))).WaitAsync(Timeout);

        Assert.False(thread.IsThreadPoolThread);
        Assert.True(thread.IsBackground, "a verification that never returns must not keep the process alive");
        Assert.StartsWith("SignalRSecure password verification", thread.Name);
        Assert.Equal(ThreadPriority.BelowNormal, thread.Priority);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(10, nice);
        }
    }

    [Fact]
    public async Task TryEnqueue_WorkThrows_FaultsTheCallerAndTheThreadServesOn()
    {
        using var budget = Budget(threads: 1, queueLimit: 0);

        var failed = Enqueue<int>(budget, _ => throw new InvalidOperationException("directory down"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(Timeout));
        Assert.Equal(1, await Enqueue(budget, _ => ValueTask.FromResult(1)).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Dispose_CancelsTheQueueFinishesTheRunningWorkAndStopsTheThreads()
    {
        var budget = Budget(threads: 1, queueLimit: 5);
        Thread? worker = null;
        var (running, release) = await OccupyAsync(budget, () => worker = Thread.CurrentThread);
        var queuedRan = false;
        var queued = Enqueue(budget, _ =>
        {
            queuedRan = true;
            return ValueTask.FromResult(1);
        });

        var disposing = Task.Run(budget.Dispose);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Timeout));
        Assert.False(disposing.IsCompleted);
        release.TrySetResult();
        Assert.Equal(0, await running.WaitAsync(Timeout));
        await disposing.WaitAsync(Timeout);
        Assert.False(worker!.IsAlive);
        Assert.False(queuedRan);
        Assert.Throws<ObjectDisposedException>(() => budget.TryEnqueue(_ => ValueTask.FromResult(2), CancellationToken.None, out _, out _));
    }

    [Theory]
    [InlineData(0, 50, "SignalRSecure:Login:MaxConcurrentVerifications")]
    [InlineData(257, 50, "SignalRSecure:Login:MaxConcurrentVerifications")]
    [InlineData(2, -1, "SignalRSecure:Login:VerificationQueueLimit")]
    public void LoginOptionsValidator_OutOfRange_FailsNamingTheKey(int threads, int queueLimit, string key)
    {
        var result = new LoginOptionsValidator().Validate(null, new LoginOptions { MaxConcurrentVerifications = threads, VerificationQueueLimit = queueLimit });

        Assert.True(result.Failed);
        Assert.Contains(key, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void LoginOptions_Defaults_AreOneThreadPerProcessorAndAQueueOf50()
    {
        var options = new LoginOptions();

        Assert.Equal(Environment.ProcessorCount, options.MaxConcurrentVerifications);
        Assert.Equal(50, options.VerificationQueueLimit);
        Assert.True(new LoginOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public async Task TryEnqueue_WorkCancelledByItsCallerWhileRunning_CancelsTheCallerAndTheThreadServesOn()
    {
        // Arrange: the caller gives up while its verification runs; the work sees it and stops.
        using var budget = Budget(threads: 1, queueLimit: 1);
        using var aborted = new CancellationTokenSource();
        var started = Gates(1)[0];
        var cancelled = Enqueue(
            budget,
            async token =>
            {
                started.TrySetResult();
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, token);
                return 1;
            },
            aborted.Token);
        await started.Task.WaitAsync(Timeout);

        // Act
        await aborted.CancelAsync();
        var outcome = await Record.ExceptionAsync(() => cancelled.WaitAsync(Timeout));
        var next = await Enqueue(budget, _ => ValueTask.FromResult(2)).WaitAsync(Timeout);

        // Assert: cancelled, not faulted, and the thread takes the next verification.
        Assert.IsAssignableFrom<OperationCanceledException>(outcome);
        Assert.True(cancelled.IsCanceled);
        Assert.Equal(2, next);
    }

    [Fact]
    public async Task TryEnqueue_WorkThrowsCancellationTheCallerDidNotAskFor_FaultsTheCaller()
    {
        using var budget = Budget(threads: 1, queueLimit: 1);

        var faulted = Enqueue<int>(budget, _ => throw new OperationCanceledException("a timeout inside the directory"));
        var outcome = await Record.ExceptionAsync(() => faulted.WaitAsync(Timeout));

        Assert.IsAssignableFrom<OperationCanceledException>(outcome);
        Assert.True(faulted.IsFaulted);
    }

    [Fact]
    public async Task Budget_SeveralThreads_AreNumberedFromOneInTheirNames()
    {
        // Arrange: the names are what an operator sees of these threads in a dump or a debugger.
        using var budget = Budget(threads: 2, queueLimit: 0);
        var names = new ConcurrentBag<string?>();
        var started = Gates(2);
        var release = Gates(1)[0];
        var running = Enumerable.Range(0, 2).Select(i => Enqueue(budget, async _ =>
        {
            names.Add(Thread.CurrentThread.Name);
            started[i].TrySetResult();
            await release.Task.WaitAsync(Timeout);
            return i;
        })).ToList();

        // Act
        await Task.WhenAll(started.Select(gate => gate.Task)).WaitAsync(Timeout);
        release.TrySetResult();
        await Task.WhenAll(running).WaitAsync(Timeout);

        // Assert
        Assert.Equal(["SignalRSecure password verification 1", "SignalRSecure password verification 2"], names.Order());
    }

    [Fact]
    public void TryEnqueue_NullWork_Throws()
    {
        using var budget = Budget(threads: 1, queueLimit: 0);

        Assert.Throws<ArgumentNullException>(() => budget.TryEnqueue<int>(null!, CancellationToken.None, out _, out _));
    }

    [Fact]
    public async Task TryEnqueue_CancelledWhileQueued_CancelsWithTheCallersOwnToken()
    {
        // The caller can tell its own cancellation (ex.CancellationToken == its token) from any other.
        using var budget = Budget(threads: 1, queueLimit: 1);
        var (running, release) = await OccupyAsync(budget);
        using var aborted = new CancellationTokenSource();
        var cancelled = Enqueue(budget, _ => ValueTask.FromResult(1), aborted.Token);

        await aborted.CancelAsync();
        var outcome = await Record.ExceptionAsync(() => cancelled.WaitAsync(Timeout));

        Assert.Equal(aborted.Token, Assert.IsAssignableFrom<OperationCanceledException>(outcome).CancellationToken);
        release.TrySetResult();
        await running.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Dispose_QueuedWorkOfACallerStillWaiting_CancelsItWithACancelledToken()
    {
        // Arrange: the caller's own token is not cancelled; the budget gives up on its work.
        var budget = Budget(threads: 1, queueLimit: 1);
        var (running, release) = await OccupyAsync(budget);
        using var caller = new CancellationTokenSource();
        var queued = Enqueue(budget, _ => ValueTask.FromResult(1), caller.Token);

        // Act
        var disposing = Task.Run(budget.Dispose);
        var outcome = await Record.ExceptionAsync(() => queued.WaitAsync(Timeout));
        release.TrySetResult();
        await Task.WhenAll(running, disposing).WaitAsync(Timeout);

        // Assert: a cancellation that says it was cancelled, and not by the caller.
        var cancellation = Assert.IsAssignableFrom<OperationCanceledException>(outcome).CancellationToken;
        Assert.True(cancellation.IsCancellationRequested);
        Assert.NotEqual(caller.Token, cancellation);
        Assert.False(caller.IsCancellationRequested);
    }

    [Fact]
    public async Task TryEnqueue_CancelledJustAsAThreadTakesIt_NeverRunsAndCancellingDoesNotThrow()
    {
        // Arrange: the clock read that stamps the start is the instant a thread has taken the work out of the queue,
        // still holding the budget's lock; the cancellation's callback runs right then, and finds the work gone.
        var clock = new HookedClock(_time);
        using var budget = new PasswordVerificationBudget(
            Options.Create(new LoginOptions { MaxConcurrentVerifications = 1, VerificationQueueLimit = 1 }), clock);
        using var caller = new CancellationTokenSource();
        Exception? cancelFailure = null;
        clock.AfterNextTimestamp = () => cancelFailure = Record.Exception(caller.Cancel);
        var ran = false;

        // Act
        var cancelled = Enqueue(
            budget,
            _ =>
            {
                ran = true;
                return ValueTask.FromResult(1);
            },
            caller.Token);
        var outcome = await Record.ExceptionAsync(() => cancelled.WaitAsync(Timeout));

        // Assert: cancelled with the caller's token, the caller's Cancel did not throw, and the thread serves on.
        Assert.Equal(caller.Token, Assert.IsAssignableFrom<OperationCanceledException>(outcome).CancellationToken);
        Assert.Null(cancelFailure);
        Assert.False(ran);
        Assert.Equal(2, await Enqueue(budget, _ => ValueTask.FromResult(2)).WaitAsync(Timeout));
    }

    [Fact]
    public async Task TryEnqueue_WorkCancelledBeforeItStarted_CountsNothingTowardTheEstimatedWait()
    {
        // Arrange: cancelled as the thread takes it, after which 2 s pass on the clock before the thread is free again.
        var clock = new HookedClock(_time);
        using var budget = new PasswordVerificationBudget(
            Options.Create(new LoginOptions { MaxConcurrentVerifications = 1, VerificationQueueLimit = 1 }), clock);
        using var caller = new CancellationTokenSource();
        Exception? cancelFailure = null;
        clock.AfterNextTimestamp = () =>
        {
            cancelFailure = Record.Exception(caller.Cancel);
            _time.Advance(TimeSpan.FromSeconds(2));
        };
        var cancelled = Enqueue(budget, _ => ValueTask.FromResult(1), caller.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        var (running, release) = await OccupyAsync(budget);
        var queued = Enqueue(budget, _ => ValueTask.FromResult(2));

        // Act
        var admitted = budget.TryEnqueue(_ => ValueTask.FromResult(3), CancellationToken.None, out _, out var retryAfter);

        // Assert: no verification has finished and the running one has only just begun, so there is no cost to go on.
        Assert.Null(cancelFailure);
        Assert.False(admitted);
        Assert.Equal(TimeSpan.Zero, retryAfter);
        release.TrySetResult();
        await Task.WhenAll(running, queued).WaitAsync(Timeout);
    }

    [Fact]
    public async Task TryEnqueue_WorkCompletingLaterOnAValueTaskSource_HandsTheCallerItsResult()
    {
        // Arrange: a directory built on sockets or pipes returns a ValueTask whose pending result is no Task.
        using var budget = Budget(threads: 1, queueLimit: 0);
        var later = new LaterResult();
        var verification = Enqueue(budget, _ => later.ValueTask);

        // Act: the result comes once the thread waits for it.
        await Task.WhenAny(later.Awaited, verification).WaitAsync(Timeout);
        later.SetResult(42);

        // Assert
        Assert.Equal(42, await verification.WaitAsync(Timeout));
    }

    [Fact]
    public async Task TryEnqueue_WorkDone_IsNotKeptAliveByTheCallersTokenSource()
    {
        // Arrange: a token source that outlives many verifications (an app-wide token, a reused connection's token).
        // The work captures what it verifies (a login's user name and password): it must not linger after the work.
        using var budget = Budget(threads: 1, queueLimit: 1);
        using var caller = new CancellationTokenSource();
        var captured = RunCapturing(budget, caller.Token);

        // Act: one more verification, so that the thread no longer holds the first one either.
        Assert.Equal(2, await Enqueue(budget, _ => ValueTask.FromResult(2)).WaitAsync(Timeout));
        CollectGarbage();

        // Assert
        Assert.False(captured.IsAlive);
        GC.KeepAlive(caller);
    }

    [Fact]
    public async Task Dispose_QueuedWork_IsKeptAliveNeitherByTheBudgetNorByTheCallersTokenSource()
    {
        // Arrange
        var budget = Budget(threads: 1, queueLimit: 1);
        var (running, release) = await OccupyAsync(budget);
        using var caller = new CancellationTokenSource();
        var (captured, queued) = QueueCapturing(budget, caller.Token);

        // Act
        var disposing = Task.Run(budget.Dispose);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Timeout));
        release.TrySetResult();
        await Task.WhenAll(running, disposing).WaitAsync(Timeout);
        CollectGarbage();

        // Assert
        Assert.False(captured.IsAlive);
        GC.KeepAlive(caller);
        GC.KeepAlive(budget);
    }

    private PasswordVerificationBudget Budget(int threads, int queueLimit) =>
        new(Options.Create(new LoginOptions { MaxConcurrentVerifications = threads, VerificationQueueLimit = queueLimit }), _time);

    private static Task<T> Enqueue<T>(PasswordVerificationBudget budget, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken = default)
    {
        Assert.True(budget.TryEnqueue(work, cancellationToken, out var completion, out _), "refused");
        return completion;
    }

    // Field 19 of /proc/thread-self/stat; the thread's name (field 2, in parentheses) may contain spaces.
    private static int? LinuxNiceOfThisThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var stat = File.ReadAllText("/proc/thread-self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Starts a verification that holds its thread until <c>Release</c> is set, and waits until it runs.</summary>
    private static async Task<(Task<int> Running, TaskCompletionSource Release)> OccupyAsync(PasswordVerificationBudget budget, Action? onThread = null)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = Enqueue(budget, async _ =>
        {
            onThread?.Invoke();
            started.TrySetResult();
            await release.Task.WaitAsync(Timeout);
            return 0;
        });
        await started.Task.WaitAsync(Timeout);
        return (running, release);
    }

    /// <summary>Runs work that captures an object of its own to the end, and returns a weak reference to that object.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RunCapturing(PasswordVerificationBudget budget, CancellationToken cancellationToken)
    {
        var secret = new object();
        var completion = Enqueue(budget, _ => ValueTask.FromResult(secret.GetHashCode()), cancellationToken);
        Assert.True(completion.Wait(Timeout));
        return new WeakReference(secret);
    }

    /// <summary>Queues work that captures an object of its own, and returns a weak reference to that object.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Captured, Task Queued) QueueCapturing(PasswordVerificationBudget budget, CancellationToken cancellationToken)
    {
        var secret = new object();
        var queued = Enqueue(budget, _ => ValueTask.FromResult(secret.GetHashCode()), cancellationToken);
        return (new WeakReference(secret), queued);
    }

    private static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static TaskCompletionSource[] Gates(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The fake clock, with a hook that runs once, on the reading thread, right after the next timestamp is read.</summary>
    private sealed class HookedClock(ManualTimeProvider inner) : TimeProvider
    {
        private Action? _afterNextTimestamp;

        public Action? AfterNextTimestamp
        {
            set => Volatile.Write(ref _afterNextTimestamp, value);
        }

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp()
        {
            var timestamp = inner.GetTimestamp();
            Interlocked.Exchange(ref _afterNextTimestamp, null)?.Invoke();
            return timestamp;
        }
    }

    /// <summary>A result that comes later through an <see cref="IValueTaskSource{TResult}"/>, as sockets and pipes give them.</summary>
    private sealed class LaterResult : IValueTaskSource<int>
    {
        private readonly TaskCompletionSource _awaited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };

        public ValueTask<int> ValueTask => new(this, _core.Version);

        /// <summary>Completes once someone waits for the result.</summary>
        public Task Awaited => _awaited.Task;

        public void SetResult(int result) => _core.SetResult(result);

        public int GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _core.OnCompleted(continuation, state, token, flags);
            _awaited.TrySetResult();
        }
    }
}
