using System.Diagnostics;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// The measured window of a scenario: latencies and counts recorded only while it is open, and the server's CPU
/// time across it, so that the client's own cost drops out of the per-message figure.
/// </summary>
internal sealed class Recorder(ProcessStats? stats)
{
    private long _count;
    private long _errors;
    private long _cpuAtStart;
    private long _cpuAtStop;

    public Histogram Latency { get; } = new();

    /// <summary>Stopwatch ticks; messages meant to be sent from here on count (open loop).</summary>
    public long StartedAt { get; private set; } = long.MaxValue;

    /// <summary>Stopwatch ticks; messages meant to be sent from here on no longer count.</summary>
    public long StoppedAt { get; private set; } = long.MaxValue;

    public bool IsRecording { get; private set; }

    public long Count => Volatile.Read(ref _count);

    public long Errors => Volatile.Read(ref _errors);

    public double Seconds => (StoppedAt - StartedAt) / (double)Stopwatch.Frequency;

    public long ServerCpuNanoseconds => _cpuAtStop - _cpuAtStart;

    public void Start()
    {
        _cpuAtStart = stats?.CpuNanoseconds() ?? 0;
        StartedAt = Stopwatch.GetTimestamp();
        IsRecording = true;
    }

    public void Stop()
    {
        StoppedAt = Stopwatch.GetTimestamp();
        IsRecording = false;
        _cpuAtStop = stats?.CpuNanoseconds() ?? 0;
    }

    /// <summary>Records a closed-loop round trip that ended at <paramref name="now"/>, while the window is open.</summary>
    public void RecordClosedLoop(long sentAt, long now, bool error)
    {
        if (IsRecording)
        {
            Add(sentAt, now, error);
        }
    }

    /// <summary>Records a message meant to be sent at <paramref name="intendedAt"/>, if that falls in the window.</summary>
    public void RecordOpenLoop(long intendedAt, long now, bool error)
    {
        if (intendedAt >= StartedAt && intendedAt < StoppedAt)
        {
            Add(intendedAt, now, error);
        }
    }

    /// <summary>Server CPU time per counted message, in microseconds.</summary>
    public double CpuMicrosecondsPerMessage => Count == 0 || stats is null ? 0 : ServerCpuNanoseconds / 1000.0 / Count;

    /// <summary>Server CPU use over the window, in cores.</summary>
    public double ServerCores => Seconds <= 0 || stats is null ? 0 : ServerCpuNanoseconds / 1e9 / Seconds;

    private void Add(long from, long to, bool error)
    {
        if (error)
        {
            Interlocked.Increment(ref _errors);
            return;
        }

        Latency.Record((long)((to - from) * (1e9 / Stopwatch.Frequency)));
        Interlocked.Increment(ref _count);
    }
}
