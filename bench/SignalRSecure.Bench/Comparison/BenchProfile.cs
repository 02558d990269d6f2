namespace SignalRSecure.Bench.Comparison;

/// <summary>How long and how big each scenario runs: the full comparison, or the quick one for development.</summary>
internal sealed record BenchProfile
{
    public required string Name { get; init; }

    public required int Rounds { get; init; }

    public int EchoConnections { get; init; } = 100;

    public required TimeSpan EchoWarmUp { get; init; }

    public required TimeSpan EchoMeasure { get; init; }

    public required TimeSpan LatencyWarmUp { get; init; }

    public required TimeSpan LatencyMeasure { get; init; }

    public required IReadOnlyList<int> BroadcastReceivers { get; init; }

    public required int Groups { get; init; }

    public required int GroupMembers { get; init; }

    public required TimeSpan FanOutWarmUp { get; init; }

    public required TimeSpan FanOutMeasure { get; init; }

    public int Connectors { get; init; } = 64;

    public required int ConnectWarmUp { get; init; }

    public required int ConnectCount { get; init; }

    public required IReadOnlyList<int> MemorySteps { get; init; }

    /// <summary>Receivers of the cross-node broadcast (all on node B, the sender on node A).</summary>
    public int ClusterReceivers { get; init; } = 1000;

    /// <summary>Connections opened one at a time, for the Authenticate time of each ticket store without queueing.</summary>
    public required int AuthenticateSamples { get; init; }

    public required int FloodConnections { get; init; }

    public int FloodVictims { get; init; } = 200;

    public double FloodVictimRate { get; init; } = 10;

    /// <summary>The authentication deadline during the flood; null keeps the server's default (10 s).</summary>
    public TimeSpan? FloodDeadline { get; init; }

    public required TimeSpan FloodBaseline { get; init; }

    public required int FloodRounds { get; init; }

    /// <summary>How long after the flood the memory is looked at a second time.</summary>
    public required TimeSpan FloodSettle { get; init; }

    /// <summary>
    /// The whole comparison: seven interleaved rounds of every scenario, enough for a bootstrap interval of the median
    /// ratio that can fall wholly on one side of a goal (<see cref="Reporting.MedianInterval"/>).
    /// </summary>
    public static BenchProfile Full(int maxConnections) => new()
    {
        Name = "full",
        Rounds = 7,
        EchoWarmUp = TimeSpan.FromSeconds(2),
        EchoMeasure = TimeSpan.FromSeconds(3),
        LatencyWarmUp = TimeSpan.FromSeconds(2),
        LatencyMeasure = TimeSpan.FromSeconds(3),
        BroadcastReceivers = [1000, 5000],
        Groups = 100,
        GroupMembers = 100,
        FanOutWarmUp = TimeSpan.FromSeconds(0.5),
        FanOutMeasure = TimeSpan.FromSeconds(2),
        ConnectWarmUp = 500,
        ConnectCount = 5000,
        MemorySteps = [2500, 5000, 10000, 15000, Math.Min(20000, maxConnections)],
        AuthenticateSamples = 1000,
        FloodConnections = 5000,
        FloodBaseline = TimeSpan.FromSeconds(3),
        FloodRounds = 7,
        FloodSettle = TimeSpan.FromSeconds(15),
    };

    /// <summary>Every scenario once, small and short.</summary>
    public static BenchProfile Quick() => new()
    {
        Name = "quick",
        Rounds = 1,
        EchoWarmUp = TimeSpan.FromSeconds(1),
        EchoMeasure = TimeSpan.FromSeconds(1),
        LatencyWarmUp = TimeSpan.FromSeconds(1),
        LatencyMeasure = TimeSpan.FromSeconds(1.5),
        BroadcastReceivers = [1000],
        Groups = 20,
        GroupMembers = 50,
        FanOutWarmUp = TimeSpan.FromSeconds(0.3),
        FanOutMeasure = TimeSpan.FromSeconds(1),
        ConnectWarmUp = 200,
        ConnectCount = 1200,
        MemorySteps = [1500, 3000],
        AuthenticateSamples = 200,
        FloodConnections = 1000,
        FloodDeadline = TimeSpan.FromSeconds(3),
        FloodBaseline = TimeSpan.FromSeconds(1.5),
        FloodRounds = 1,
        FloodSettle = TimeSpan.FromSeconds(3),
    };
}
