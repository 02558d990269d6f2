using System.Diagnostics;
using System.Runtime.InteropServices;
using SignalRSecure.Bench.Load;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// Sends on a fixed schedule whatever the replies do (open loop): message k is meant for
/// <c>start + k / rate</c>, round robin over the links, and carries that intended time, so a stalled server shows
/// as latency instead of silently lowering the rate (no coordinated omission). Runs on its own thread.
/// </summary>
internal sealed partial class OpenLoopScheduler(IReadOnlyList<HubLink> links, double ratePerSecond)
{
    private const int PrSetTimerSlack = 29;

    private volatile bool _stopping;

    public long Sent { get; private set; }

    /// <summary>Runs from <paramref name="startAt"/> until <paramref name="endAt"/> (Stopwatch ticks) or <see cref="Stop"/>.</summary>
    public Task RunAsync(long startAt, long endAt)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(startAt, endAt);
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        { IsBackground = true, Name = "open-loop", Priority = ThreadPriority.AboveNormal };
        thread.Start();
        return done.Task;
    }

    public void Stop() => _stopping = true;

    private void Run(long startAt, long endAt)
    {
        // Linux rounds sleeps up by the thread's timer slack, 50 us by default: make it 1 ns for this thread.
        _ = Prctl(PrSetTimerSlack, 1, 0, 0, 0);
        var period = Stopwatch.Frequency / ratePerSecond;
        for (long k = 0; !_stopping; k++)
        {
            var intended = startAt + (long)(k * period);
            if (intended >= endAt)
            {
                return;
            }

            long ahead;
            while ((ahead = intended - Stopwatch.GetTimestamp()) > 0)
            {
                Sleep((long)(ahead * (1e9 / Stopwatch.Frequency)));
            }

            var link = links[(int)(k % links.Count)];
            var send = link.SendStampedAsync(intended);
            if (!send.IsCompletedSuccessfully)
            {
                // The socket's buffer is full: wait, the delay shows up as latency of the messages meant for now.
                try
                {
                    send.AsTask().GetAwaiter().GetResult();
                }
                catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException)
                {
                    // A link the server closed; its messages are missing from the count.
                }
            }

            Sent = k + 1;
        }
    }

    private static void Sleep(long nanoseconds)
    {
        var request = new TimeSpec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
        _ = NanoSleep(ref request, IntPtr.Zero);
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", EntryPoint = "nanosleep")]
    private static partial int NanoSleep(ref TimeSpec request, IntPtr remaining);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
