using System.Diagnostics;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// Puts one interleaving of a race into a test: the test takes a lock the code under test takes too, runs that code
/// on a thread of its own until the thread waits for the lock, changes the state behind its back, and lets it go.
/// </summary>
internal static class LockRace
{
    /// <summary>
    /// Starts <paramref name="body"/> on a new thread and returns once that thread waits (for the lock the caller
    /// holds); the task completes with what <paramref name="body"/> returns. Throws when the thread ends or has not
    /// waited within 10 s.
    /// </summary>
    public static Task<T> RunUntilBlocked<T>(Func<T> body)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(body());
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        })
        { IsBackground = true };
        thread.Start();

        var waited = Stopwatch.StartNew();
        while ((thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0)
        {
            if (result.Task.IsCompleted)
            {
                throw new InvalidOperationException("The thread ended without waiting for the lock.");
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException("The thread did not wait for the lock within 10 s.");
            }

            Thread.Yield();
        }

        return result.Task;
    }
}
