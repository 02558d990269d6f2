namespace SignalRSecure.Bench.Scenarios;

/// <summary>How the gated server (G) runs in the scale-out scenarios.</summary>
internal enum ClusterSetup
{
    /// <summary>One node, no Redis: tickets, sessions and messages in its memory.</summary>
    Memory,

    /// <summary>One node with <c>SignalRSecure:Redis:Configuration</c>: Redis stores and SignalR's Redis backplane.</summary>
    Redis,

    /// <summary>Two nodes on one Redis: the sender on node A, the receivers on node B.</summary>
    CrossNode,
}

internal static class ClusterSetups
{
    public static string Describe(ClusterSetup setup) => setup switch
    {
        ClusterSetup.Memory => "one node, in memory (no Redis)",
        ClusterSetup.Redis => "one node with Redis (stores and backplane)",
        ClusterSetup.CrossNode => "two nodes on one Redis: sender on node A, receivers on node B",
        _ => setup.ToString(),
    };
}
