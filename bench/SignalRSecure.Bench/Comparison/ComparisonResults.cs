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

    public List<ClusterFanOut> ClusterFanOut { get; } = [];

    public List<ClusterConnect> ClusterConnect { get; } = [];

    /// <summary>Broadcast with the chat history on and off (G, one node and cross-node).</summary>
    public List<HistoryFanOut> HistoryFanOut { get; } = [];

    /// <summary>Echo over MessagePack (A and G).</summary>
    public List<EchoThroughput> MessagePackEcho { get; } = [];

    /// <summary>Broadcast over MessagePack (A and G).</summary>
    public List<FanOut> MessagePackFanOut { get; } = [];

    /// <summary>Servers that refused the MessagePack handshake or Authenticate, with what they answered.</summary>
    public Dictionary<ServerKind, string> MessagePackRefused { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>The environment every .NET server ran with beyond its own runtimeconfig (G's shipped settings, <c>--host</c>, <c>--server-env</c>).</summary>
    public IReadOnlyDictionary<string, string> RuntimeEnvironment { get; set; } = new Dictionary<string, string>();

    /// <summary>The scenarios this run measured (<see cref="BenchScenarios"/>).</summary>
    public IReadOnlySet<string> Scenarios { get; set; } = new HashSet<string>(BenchScenarios.All);

    /// <summary>The machine's load while the comparison ran.</summary>
    public Reporting.MachineLoad? Load { get; set; }

    public double LatencyRate { get; set; }

    public Dictionary<int, ServerKind[]> Orders { get; } = [];

    public TimeSpan Duration { get; set; }
}
