namespace SignalRSecure.Bench.Comparison;

/// <summary>The phases of a comparison, by the names <c>--scenarios</c> takes.</summary>
internal static class BenchScenarios
{
    public const string Echo = "echo";

    /// <summary>Open-loop echo latency and the fan-out, on one server each round; it needs echo's rate.</summary>
    public const string Latency = "latency";

    /// <summary>
    /// The groups fan-out alone (as in <see cref="Latency"/>), on a fresh server each round without echo, latency or the
    /// broadcasts before it: for working on the fan-out, not part of a full run.
    /// </summary>
    public const string FanOut = "fanout";

    public const string Connect = "connect";

    public const string Memory = "memory";

    public const string Flood = "flood";

    /// <summary>Scale out on Redis: fan-out across nodes, connections per second and Authenticate time by ticket store.</summary>
    public const string Cluster = "cluster";

    /// <summary>Echo and broadcast over the MessagePack protocol, G against A.</summary>
    public const string MessagePack = "msgpack";

    /// <summary>Broadcast with the chat history on against off (G), on one node and across nodes.</summary>
    public const string History = "history";

    public static readonly IReadOnlyList<string> All = [Echo, Latency, Connect, Memory, Flood, Cluster, MessagePack, History];

    /// <summary>Scenarios a run takes only when asked for by name (<c>--scenarios</c>), never by default.</summary>
    public static readonly IReadOnlyList<string> OnRequest = [FanOut];

    /// <summary>
    /// Scenarios whose report sections stand on their own (their own date, rounds and load): a run of only these
    /// replaces its sections in an existing report and keeps the rest.
    /// </summary>
    public static readonly IReadOnlyList<string> SelfContained = [Cluster, MessagePack, History];

    /// <summary>Parses <c>--scenarios a,b</c>; null means all of them.</summary>
    public static IReadOnlySet<string> Parse(string? value)
    {
        if (value is null)
        {
            return new HashSet<string>(All);
        }

        var chosen = new HashSet<string>(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var unknown = chosen.Except(All).Except(OnRequest).ToList();
        if (unknown.Count > 0 || chosen.Count == 0)
        {
            throw new ArgumentException($"unknown scenario(s) {string.Join(", ", unknown)}; pick from {string.Join(",", All.Concat(OnRequest))}");
        }

        // The latency rate is half of A's echo maximum.
        if (chosen.Contains(Latency))
        {
            chosen.Add(Echo);
        }

        return chosen;
    }

    /// <summary>Whether a run of <paramref name="scenarios"/> only adds self-contained sections to an existing report.</summary>
    public static bool OnlySelfContained(IReadOnlySet<string> scenarios) => scenarios.All(SelfContained.Contains) && scenarios.Count < All.Count;
}
