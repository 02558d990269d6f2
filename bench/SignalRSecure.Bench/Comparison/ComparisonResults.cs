using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Comparison;

/// <summary>Everything one comparison measured, per scenario, server and round.</summary>
internal sealed class ComparisonResults
{
    public List<EchoThroughput> Echo { get; } = [];

    public List<EchoLatency> Latency { get; } = [];

    public List<FanOut> FanOut { get; } = [];

    public List<ConnectRate> Connect { get; } = [];

    public List<IdleMemory> Memory { get; } = [];

    public List<Flood> Flood { get; } = [];

    public List<string> Notes { get; } = [];

    public double LatencyRate { get; set; }

    public Dictionary<int, ServerKind[]> Orders { get; } = [];

    public TimeSpan Duration { get; set; }
}
