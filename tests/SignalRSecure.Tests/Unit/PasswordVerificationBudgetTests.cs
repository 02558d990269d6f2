using System.Collections.Concurrent;
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
}
