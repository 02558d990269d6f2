using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>A result of one server in one round.</summary>
internal interface IMeasured
{
    ServerKind Server { get; }

    int Round { get; }
}

/// <summary>Latency percentiles in microseconds.</summary>
internal sealed record Percentiles(double P50, double P90, double P99, double P999, double Max)
{
    public static Percentiles Of(Histogram histogram) => new(
        histogram.Percentile(50) / 1000.0,
        histogram.Percentile(90) / 1000.0,
        histogram.Percentile(99) / 1000.0,
        histogram.Percentile(99.9) / 1000.0,
        histogram.Percentile(100) / 1000.0);
}

/// <summary>Scenario 1: closed-loop echo, one call outstanding per connection.</summary>
internal sealed record EchoThroughput(ServerKind Server, int Round, double PerSecond, double CpuMicroseconds, double ServerCores, Percentiles Latency, long Errors) : IMeasured;

/// <summary>Scenario 2: open-loop echo at a fixed rate, latency from the intended send time.</summary>
internal sealed record EchoLatency(ServerKind Server, int Round, double TargetRate, double AchievedRate, double CpuMicroseconds, Percentiles Latency, long Missing, Histogram Histogram) : IMeasured;

/// <summary>Scenario 3: fan-out to receivers, counted where they arrive.</summary>
/// <remarks>
/// <see cref="BytesPerDelivery"/> is the mean size of the message a receiver got (the record, without its separator),
/// so that servers whose messages differ in size are compared knowing it; <see cref="RecordsPerMessage"/> the deliveries
/// per WebSocket message the receivers got (how much the server batched its sends); <see cref="OtherRecords"/> the
/// invocations without a stamp the connections got during the measurement (presence events), which should be none. <see cref="Runtime"/> is what the server's
/// runtime did during the measurement (null where the probe does not know it, N), read per delivery below.
/// </remarks>
internal sealed record FanOut(ServerKind Server, int Round, string Shape, int Receivers, double DeliveredPerSecond, double CpuMicroseconds, Percentiles Latency, long Stalls,
    double BytesPerDelivery = 0, long Deliveries = 0, RuntimeCounters? Runtime = null, double RecordsPerMessage = 0, long OtherRecords = 0) : IMeasured
{
    public double AllocatedBytesPerDelivery => Runtime is null ? 0 : Runtime.AllocatedBytes / (double)Math.Max(1, Deliveries);

    /// <summary>Collections of generation 0, 1 and 2 per 1,000 deliveries.</summary>
    public (double Gen0, double Gen1, double Gen2) CollectionsPerThousand => Runtime is null
        ? default
        : (Runtime.Gen0 * 1000.0 / Math.Max(1, Deliveries), Runtime.Gen1 * 1000.0 / Math.Max(1, Deliveries), Runtime.Gen2 * 1000.0 / Math.Max(1, Deliveries));

    /// <summary>The time the GC paused the server per delivery (wall clock: on a loaded machine it includes waiting for a core).</summary>
    public double GcPauseMicrosecondsPerDelivery => Runtime is null ? 0 : Runtime.PauseMs * 1000.0 / Math.Max(1, Deliveries);

    /// <summary>One line of these figures for the log.</summary>
    public string RuntimeSummary => Runtime is null
        ? $"{BytesPerDelivery:F0} B/delivery, {RecordsPerMessage:F2} deliveries per WebSocket message, {OtherRecords} other invocations"
        : $"{BytesPerDelivery:F0} B/delivery, {RecordsPerMessage:F2} deliveries per WebSocket message, {OtherRecords} other invocations, allocated {AllocatedBytesPerDelivery:F0} B/delivery, gen0/1/2 {Runtime.Gen0}/{Runtime.Gen1}/{Runtime.Gen2} " +
          $"({CollectionsPerThousand.Gen0:F3}/{CollectionsPerThousand.Gen1:F3}/{CollectionsPerThousand.Gen2:F3} per 1,000 deliveries), GC pause {GcPauseMicrosecondsPerDelivery:F2} us/delivery";
}

/// <summary>Scenario 4: connections opened, authenticated and closed per second by concurrent connectors.</summary>
internal sealed record ConnectRate(ServerKind Server, int Round, double PerSecond, double CpuMicroseconds, Percentiles TimeToReady, long Failures, Percentiles Authenticate) : IMeasured;

/// <summary>One point of the memory curve.</summary>
internal sealed record MemoryPoint(int Connections, long ResidentBytes, long HeapBytes, long PinnedBytes = 0);

/// <summary>Scenario 5: memory of idle authenticated connections.</summary>
internal sealed record IdleMemory(ServerKind Server, int Round, IReadOnlyList<MemoryPoint> Points, bool ServerGc) : IMeasured
{
    /// <summary>Bytes per connection between the last two decade points (10k and the top), by RSS and by heap.</summary>
    public (double Resident, double Heap) Slope
    {
        get
        {
            var top = Points[^1];
            var lower = Points.LastOrDefault(p => p.Connections <= top.Connections / 2 && p.Connections > 0) ?? Points[0];
            var n = (double)(top.Connections - lower.Connections);
            return ((top.ResidentBytes - lower.ResidentBytes) / n, (top.HeapBytes - lower.HeapBytes) / n);
        }
    }

    /// <summary>Bytes per connection from no connections to the top point.</summary>
    public (double Resident, double Heap) Average
    {
        get
        {
            var top = Points[^1];
            var zero = Points[0];
            var n = (double)(top.Connections - zero.Connections);
            return ((top.ResidentBytes - zero.ResidentBytes) / n, (top.HeapBytes - zero.HeapBytes) / n);
        }
    }
}

/// <summary>Scenario 6: a flood of connections that never authenticate, against echoing victims.</summary>
internal sealed record Flood(
    int Round,
    int Connections,
    int Opened,
    int Refused,
    TimeSpan Deadline,
    int ClosedInTime,
    double MaxLatenessMs,
    double P99LatenessMs,
    double OpenSeconds,
    Percentiles Baseline,
    Percentiles During,
    Percentiles Quiet,
    long VictimErrors,
    MemoryPoint Before,
    MemoryPoint After,
    MemoryPoint Settled,
    TimeSpan SettleTime,
    IReadOnlyList<(double Seconds, double MaxLatencyMs, int OpenFlood)> Timeline)
{
    /// <summary>What the server's runtime did from the start of the flood to its last close (null without a probe that knows).</summary>
    public RuntimeCounters? DuringRuntime { get; init; }

    /// <summary>
    /// What the server allocated for the flood: its allocation from the flood's start to the last close less what the
    /// victims alone allocated at the baseline's rate over as long, since the flood's length follows the machine's load.
    /// </summary>
    public double? FloodAllocatedBytes { get; init; }

    /// <summary><see cref="FloodAllocatedBytes"/> per flood connection opened, in KB.</summary>
    public double? AllocatedKilobytesPerConnection => FloodAllocatedBytes / Math.Max(1, Opened) / 1024;
}

/// <summary>History on or off: a fan-out of G on one node in memory, or across two nodes on one Redis.</summary>
internal sealed record HistoryFanOut(bool CrossNode, bool History, int Round, FanOut Result);

/// <summary>Scale out: a fan-out with the gated server in one setup.</summary>
internal sealed record ClusterFanOut(ClusterSetup Setup, int Round, FanOut Result);

/// <summary>
/// Scale out: authenticated connections per second with one ticket store (<see cref="Rate"/>, concurrent connectors),
/// and the same loop with a single connector (<see cref="Alone"/>), whose Authenticate time is the store's without queueing.
/// </summary>
internal sealed record ClusterConnect(ClusterSetup Setup, int Round, ConnectRate Rate, ConnectRate Alone);
