using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Comparison;

/// <summary>
/// The scale-out scenarios, in interleaved rounds over the setups (<see cref="ClusterSetup"/>), each measurement on
/// freshly started nodes and a fresh <c>redis-server</c>, all pinned to the servers' core: broadcast 1 to N with the
/// receivers on node B and the sender on node A against the same on one node with Redis and without; then connections
/// per second and Authenticate time with tickets in Redis against in memory, for G and, as the reference of what
/// SignalR's own backplane costs a connection, for B (stock authentication) on the same Redis. Server CPU counts every
/// node and Redis.
/// </summary>
internal sealed class ClusterRunner(ServerLauncher launcher, RedisLauncher redisLauncher, BenchProfile profile, Action<string> log)
{
    public const string RedisVariable = "SignalRSecure__Redis__Configuration";

    private static readonly ClusterSetup[][] FanOutOrders =
    [
        [ClusterSetup.Memory, ClusterSetup.Redis, ClusterSetup.CrossNode],
        [ClusterSetup.CrossNode, ClusterSetup.Redis, ClusterSetup.Memory],
        [ClusterSetup.Redis, ClusterSetup.CrossNode, ClusterSetup.Memory],
    ];

    private static readonly (ServerKind Server, ClusterSetup Setup)[][] ConnectOrders =
    [
        [(ServerKind.G, ClusterSetup.Memory), (ServerKind.B, ClusterSetup.Memory), (ServerKind.G, ClusterSetup.Redis), (ServerKind.B, ClusterSetup.Redis)],
        [(ServerKind.B, ClusterSetup.Redis), (ServerKind.G, ClusterSetup.Redis), (ServerKind.B, ClusterSetup.Memory), (ServerKind.G, ClusterSetup.Memory)],
    ];

    public async Task RunAsync(ComparisonResults results, Dialer dialer)
    {
        var shape = $"broadcast 1 -> {profile.ClusterReceivers:N0}";
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var setup in FanOutOrders[(round - 1) % FanOutOrders.Length])
            {
                var fanOut = await WithClusterAsync(setup, ServerKind.G, async (receivers, sender) =>
                {
                    using var scenario = new FanOutScenario(receivers, dialer, sender);
                    await scenario.GrowForBroadcastAsync(profile.ClusterReceivers);
                    return await scenario.RunAsync(shape, profile.FanOutWarmUp, profile.FanOutMeasure, round);
                });
                results.ClusterFanOut.Add(new ClusterFanOut(setup, round, fanOut));
                log($"cluster   {setup} round {round}: {shape}: {fanOut.DeliveredPerSecond,9:F0}/s  cpu {fanOut.CpuMicroseconds:F2} us/delivery  p50 {fanOut.Latency.P50 / 1000:F1} ms  p99 {fanOut.Latency.P99 / 1000:F1} ms  stalls {fanOut.Stalls}");
            }
        }

        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var (server, setup) in ConnectOrders[(round - 1) % ConnectOrders.Length])
            {
                var connect = await WithClusterAsync(setup, server, async (target, _) =>
                {
                    var rate = await ConnectScenario.RunAsync(target, dialer, profile.Connectors, profile.ConnectWarmUp, profile.ConnectCount, TimeSpan.FromSeconds(20), round);
                    var alone = await ConnectScenario.RunAsync(target, dialer, 1, warmUp: 50, profile.AuthenticateSamples, TimeSpan.FromSeconds(20), round);
                    return new ClusterConnect(setup, round, rate, alone);
                });
                results.ClusterConnect.Add(connect);
                log($"cluster   {server} {setup} round {round}: {connect.Rate.PerSecond,7:F0} connections/s  cpu {connect.Rate.CpuMicroseconds:F0} us/conn  Authenticate p50/p99 {connect.Rate.Authenticate.P50 / 1000:F2}/{connect.Rate.Authenticate.P99 / 1000:F2} ms, alone {connect.Alone.Authenticate.P50 / 1000:F2}/{connect.Alone.Authenticate.P99 / 1000:F2} ms  failures {connect.Rate.Failures + connect.Alone.Failures}");
            }
        }
    }

    /// <summary>
    /// Starts Redis (unless in memory) and the nodes of <paramref name="setup"/> (servers of <paramref name="kind"/>), and
    /// runs <paramref name="run"/> with the receiving node's target, whose CPU figure counts every process of the setup,
    /// and node A's when there are two.
    /// </summary>
    private async Task<T> WithClusterAsync<T>(ClusterSetup setup, ServerKind kind, Func<BenchTarget, BenchTarget?, Task<T>> run)
    {
        using var redis = setup == ClusterSetup.Memory ? null : await redisLauncher.StartAsync();
        var environment = redis is null ? null : new Dictionary<string, string> { [RedisVariable] = redis.Configuration };
        using var nodeA = await launcher.StartAsync(kind, environment: environment);
        using var nodeB = setup == ClusterSetup.CrossNode ? await launcher.StartAsync(kind, environment: environment) : null;
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
            log($"cluster {setup} failed: {ex}");
            foreach (var file in new[] { nodeA.LogFile, nodeB?.LogFile, redis?.LogFile }.OfType<string>())
            {
                log($"{Path.GetFileName(file)} tail: {string.Join('\n', File.ReadLines(file).TakeLast(20))}");
            }

            throw;
        }
    }
}
