using System.Diagnostics;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Comparison;

/// <summary>
/// Runs the scenarios phase by phase, each phase in interleaved rounds (A B G C N, then N C G B A, then
/// G N A C B, ...), every measurement on a freshly started server, so that each ratio comes from runs close in time.
/// Only the phases in <paramref name="scenarios"/> run (<see cref="BenchScenarios"/>).
/// </summary>
internal sealed class ComparisonRunner(
    ServerLauncher launcher, RedisLauncher redisLauncher, BenchProfile profile, IReadOnlyList<ServerKind> servers, IReadOnlySet<string> scenarios, TextWriter log)
{
    private static readonly ServerKind[][] Orders =
    [
        [ServerKind.A, ServerKind.B, ServerKind.G, ServerKind.C, ServerKind.N],
        [ServerKind.N, ServerKind.C, ServerKind.G, ServerKind.B, ServerKind.A],
        [ServerKind.G, ServerKind.N, ServerKind.A, ServerKind.C, ServerKind.B],
        [ServerKind.B, ServerKind.G, ServerKind.C, ServerKind.N, ServerKind.A],
    ];

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<ComparisonResults> RunAsync()
    {
        var results = new ComparisonResults { Scenarios = scenarios };
        using var dialer = new Dialer();
        for (var round = 1; round <= profile.Rounds; round++)
        {
            results.Orders[round] = OrderOf(round, servers);
        }

        if (scenarios.Contains(BenchScenarios.Echo))
        {
            await RunEchoAndLatencyAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.FanOut))
        {
            await RunFanOutAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.Connect))
        {
            await RunConnectAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.Memory))
        {
            await RunMemoryAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.Flood) && servers.Contains(ServerKind.G))
        {
            await RunFloodAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.Cluster) && servers.Contains(ServerKind.G))
        {
            await new ClusterRunner(launcher, redisLauncher, profile, Log).RunAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.MessagePack))
        {
            await new MessagePackRunner(launcher, profile, servers, Log).RunAsync(results, dialer);
        }

        if (scenarios.Contains(BenchScenarios.History) && servers.Contains(ServerKind.G))
        {
            await new HistoryRunner(launcher, redisLauncher, profile, Log).RunAsync(results, dialer);
        }

        results.Duration = _clock.Elapsed;
        return results;
    }

    private async Task RunEchoAndLatencyAsync(ComparisonResults results, Dialer dialer)
    {
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var kind in results.Orders[round])
            {
                var echo = await WithServerAsync(kind, null, target =>
                    EchoScenario.ThroughputAsync(target, dialer, profile.EchoConnections, profile.EchoWarmUp, profile.EchoMeasure, round));
                results.Echo.Add(echo);
                Log($"echo      {kind} round {round}: {echo.PerSecond,9:F0}/s  cpu {echo.CpuMicroseconds:F2} us/call  p99 {echo.Latency.P99:F0} us  errors {echo.Errors}");
            }
        }

        var plain = results.Echo.Where(e => e.Server == ServerKind.A).Select(e => e.PerSecond).ToList();
        results.LatencyRate = Math.Round((plain.Count > 0 ? Median(plain) : results.Echo.Max(e => e.PerSecond)) / 2 / 100) * 100;
        Log($"latency rate: {results.LatencyRate}/s (half of A's median maximum)");
        if (!scenarios.Contains(BenchScenarios.Latency))
        {
            return;
        }

        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var kind in results.Orders[round])
            {
                await WithServerAsync(kind, null, async target =>
                {
                    var latency = await EchoScenario.LatencyAsync(target, dialer, profile.EchoConnections, results.LatencyRate, profile.LatencyWarmUp, profile.LatencyMeasure, round);
                    results.Latency.Add(latency);
                    Log($"latency   {kind} round {round}: p50 {latency.Latency.P50:F0} us  p99 {latency.Latency.P99:F0} us  p99.9 {latency.Latency.P999:F0} us  achieved {latency.AchievedRate:F0}/s  missing {latency.Missing}");

                    await FanOutOnAsync(target, kind, results, dialer, round);
                    return 0;
                });
            }
        }
    }

    private async Task RunFanOutAsync(ComparisonResults results, Dialer dialer)
    {
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var kind in results.Orders[round])
            {
                if (!kind.SpeaksSignalR())
                {
                    continue;
                }

                var result = await WithServerAsync(kind, null, async target =>
                {
                    using var fanOut = new FanOutScenario(target, dialer);
                    await fanOut.GrowForGroupsAsync(profile.Groups, profile.GroupMembers);
                    return await fanOut.RunAsync($"{profile.Groups} groups x {profile.GroupMembers}", profile.FanOutWarmUp, profile.FanOutMeasure, round);
                });
                results.FanOut.Add(result);
                LogFanOut(result);
            }
        }
    }

    private async Task FanOutOnAsync(BenchTarget target, ServerKind kind, ComparisonResults results, Dialer dialer, int round)
    {
        using var fanOut = new FanOutScenario(target, dialer);
        foreach (var receivers in profile.BroadcastReceivers)
        {
            await fanOut.GrowForBroadcastAsync(receivers);
            var result = await fanOut.RunAsync($"broadcast 1 -> {receivers:N0}", profile.FanOutWarmUp, profile.FanOutMeasure, round);
            results.FanOut.Add(result);
            LogFanOut(result);
        }

        if (kind.SpeaksSignalR())
        {
            await fanOut.GrowForGroupsAsync(profile.Groups, profile.GroupMembers);
            var result = await fanOut.RunAsync($"{profile.Groups} groups x {profile.GroupMembers}", profile.FanOutWarmUp, profile.FanOutMeasure, round);
            results.FanOut.Add(result);
            LogFanOut(result);
        }
    }

    private async Task RunConnectAsync(ComparisonResults results, Dialer dialer)
    {
        // On a fresh server too: after the fan-out a server may still be busy with what tearing it down left behind.
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var kind in results.Orders[round])
            {
                var connect = await WithServerAsync(kind, null, target =>
                    ConnectScenario.RunAsync(target, dialer, profile.Connectors, profile.ConnectWarmUp, profile.ConnectCount, TimeSpan.FromSeconds(20), round));
                results.Connect.Add(connect);
                Log($"connect   {kind} round {round}: {connect.PerSecond,7:F0}/s  p99 {connect.TimeToReady.P99 / 1000:F1} ms  cpu {connect.CpuMicroseconds:F0} us/conn  failures {connect.Failures}");
            }
        }
    }

    private async Task RunMemoryAsync(ComparisonResults results, Dialer dialer)
    {
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var kind in results.Orders[round].Where(k => k is ServerKind.G or ServerKind.A or ServerKind.N))
            {
                var memory = await WithServerAsync(kind, null, target => MemoryScenario.RunAsync(target, dialer, profile.MemorySteps, round));
                results.Memory.Add(memory);
                Log($"memory    {kind} round {round}: {string.Join("  ", memory.Points.Select(p => $"{p.Connections}: rss {p.ResidentBytes / 1048576.0:F1} MB heap {p.HeapBytes / 1048576.0:F1} MB"))}  slope rss {memory.Slope.Resident / 1024:F2} KB heap {memory.Slope.Heap / 1024:F2} KB");
            }
        }
    }

    private async Task RunFloodAsync(ComparisonResults results, Dialer dialer)
    {
        for (var round = 1; round <= profile.FloodRounds; round++)
        {
            var deadline = profile.FloodDeadline ?? TimeSpan.FromSeconds(10);
            var flood = await WithServerAsync(ServerKind.G, profile.FloodDeadline, shippedDoor: true, target =>
                FloodScenario.RunAsync(target, dialer, profile.FloodVictims, profile.FloodVictimRate, profile.FloodConnections, deadline, profile.FloodBaseline, profile.FloodSettle, round));
            results.Flood.Add(flood);
            Log($"flood     G round {round}: opened {flood.Opened} in {flood.OpenSeconds:F1} s, refused {flood.Refused}, closed in time {flood.ClosedInTime}, max lateness {flood.MaxLatenessMs:F0} ms, victims p99 {flood.Baseline.P99:F0} -> {flood.During.P99:F0} us (quiet {flood.Quiet.P99:F0} us), heap {flood.Before.HeapBytes / 1048576.0:F1} -> {flood.After.HeapBytes / 1048576.0:F1} MB, rss {flood.Before.ResidentBytes / 1048576.0:F1} -> {flood.After.ResidentBytes / 1048576.0:F1} MB; {flood.SettleTime.TotalSeconds:F0} s later heap {flood.Settled.HeapBytes / 1048576.0:F1} MB rss {flood.Settled.ResidentBytes / 1048576.0:F1} MB" +
                (flood.DuringRuntime is { } gc ? $"; during: {flood.AllocatedKilobytesPerConnection:F1} KB allocated per flood connection, gen0/1/2 {gc.Gen0}/{gc.Gen1}/{gc.Gen2}, GC pauses {gc.PauseMs:F0} ms" : string.Empty));
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static ServerKind[] OrderOf(int round, IReadOnlyList<ServerKind> servers) =>
        [.. Orders[(round - 1) % Orders.Length].Where(servers.Contains)];

    private Task<T> WithServerAsync<T>(ServerKind kind, TimeSpan? authenticationTimeout, Func<BenchTarget, Task<T>> run) =>
        WithServerAsync(kind, authenticationTimeout, shippedDoor: false, run);

    private async Task<T> WithServerAsync<T>(ServerKind kind, TimeSpan? authenticationTimeout, bool shippedDoor, Func<BenchTarget, Task<T>> run)
    {
        using var server = await launcher.StartAsync(kind, authenticationTimeout, shippedDoor);
        using var target = server.CreateTarget();
        try
        {
            return await run(target);
        }
        catch (Exception ex)
        {
            Log($"{kind} failed: {ex}");
            Log($"server log tail: {string.Join('\n', File.ReadLines(server.LogFile).TakeLast(20))}");
            throw;
        }
    }

    private void LogFanOut(FanOut result) =>
        Log($"fan-out   {result.Server} round {result.Round}: {result.Shape}: {result.DeliveredPerSecond,9:F0}/s  cpu {result.CpuMicroseconds:F2} us/delivery  p50 {result.Latency.P50 / 1000:F1} ms  p99 {result.Latency.P99 / 1000:F1} ms  stalls {result.Stalls}  {result.RuntimeSummary}");

    private void Log(string line)
    {
        log.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {line}");
        log.Flush();
    }
}
