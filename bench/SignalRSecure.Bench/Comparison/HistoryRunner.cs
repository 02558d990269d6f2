using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Comparison;

/// <summary>
/// The price of the chat history: a broadcast 1 to N on G with history on (the default) against the same server with
/// <see cref="HistoryVariable"/> = <c>false</c>, on one node in memory and across two nodes on one Redis (the sender on
/// node A, the receivers on node B; the history then in Redis streams), in interleaved rounds on fresh processes.
/// </summary>
internal sealed class HistoryRunner(ServerLauncher launcher, RedisLauncher redisLauncher, BenchProfile profile, Action<string> log)
{
    public const string HistoryVariable = "SignalRSecure__Chat__History";

    private static readonly (bool CrossNode, bool History)[][] Orders =
    [
        [(false, true), (false, false), (true, true), (true, false)],
        [(true, false), (true, true), (false, false), (false, true)],
    ];

    public async Task RunAsync(ComparisonResults results, Dialer dialer)
    {
        var shape = $"broadcast 1 -> {profile.ClusterReceivers:N0}";
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var (crossNode, history) in Orders[(round - 1) % Orders.Length])
            {
                var fanOut = await WithNodesAsync(crossNode, history, async (receivers, sender) =>
                {
                    using var scenario = new FanOutScenario(receivers, dialer, sender);
                    await scenario.GrowForBroadcastAsync(profile.ClusterReceivers);
                    return await scenario.RunAsync(shape, profile.FanOutWarmUp, profile.FanOutMeasure, round);
                });
                results.HistoryFanOut.Add(new HistoryFanOut(crossNode, history, round, fanOut));
                log($"history   {(crossNode ? "cross-node" : "one node")}, history {(history ? "on " : "off")} round {round}: {shape}: {fanOut.DeliveredPerSecond,9:F0}/s  cpu {fanOut.CpuMicroseconds:F2} us/delivery  p50 {fanOut.Latency.P50 / 1000:F1} ms  p99 {fanOut.Latency.P99 / 1000:F1} ms  stalls {fanOut.Stalls}");
            }
        }
    }

    /// <summary>Starts Redis and two nodes (cross-node) or one node in memory, with history on or off, and runs <paramref name="run"/>.</summary>
    private async Task<T> WithNodesAsync<T>(bool crossNode, bool history, Func<BenchTarget, BenchTarget?, Task<T>> run)
    {
        using var redis = crossNode ? await redisLauncher.StartAsync() : null;
        var environment = new Dictionary<string, string> { [HistoryVariable] = history ? "true" : "false" };
        if (redis is not null)
        {
            environment[ClusterRunner.RedisVariable] = redis.Configuration;
        }

        using var nodeA = await launcher.StartAsync(ServerKind.G, environment: environment);
        using var nodeB = crossNode ? await launcher.StartAsync(ServerKind.G, environment: environment) : null;
        var receiving = nodeB ?? nodeA;
        int[] companions = [.. new[] { nodeB is null ? (int?)null : nodeA.Stats.Pid, redis?.Pid }.OfType<int>()];
        using var target = receiving.CreateTarget(new ProcessStats(receiving.Stats.Pid, companions));
        using var sender = nodeB is null ? null : nodeA.CreateTarget();
        try
        {
            return await run(target, sender);
        }
        catch (Exception ex)
        {
            log($"history {(crossNode ? "cross-node" : "one node")} {(history ? "on" : "off")} failed: {ex}");
            foreach (var file in new[] { nodeA.LogFile, nodeB?.LogFile, redis?.LogFile }.OfType<string>())
            {
                log($"{Path.GetFileName(file)} tail: {string.Join('\n', File.ReadLines(file).TakeLast(20))}");
            }

            throw;
        }
    }
}
