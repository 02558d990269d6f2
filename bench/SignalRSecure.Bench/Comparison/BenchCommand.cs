using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Reporting;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Comparison;

/// <summary>
/// <c>SignalRSecure.Bench run [--quick] [--only G,A] [--scenarios cluster,msgpack] PATHS</c> runs the comparison and
/// writes the report and plots into <c>--results</c> (a run of only the self-contained scenarios replaces their sections in
/// the report there and keeps the rest); <c>SignalRSecure.Bench hold --kind G --connections N --seconds S PATHS</c> starts one server,
/// holds N idle connections open and prints its process id, for profiling; <c>flood-client</c> is the flood
/// scenario's attacker process, which the scenario starts itself; <c>login-flood</c> is the login-flood attack
/// test's attacker process, which that test starts. PATHS are <c>--results DIR
/// --server-dll --bench-servers-dll --probe-dll --node-server</c>; <c>bench/run.sh</c> builds everything and passes them.
/// </summary>
internal static class BenchCommand
{
    private static readonly string Usage =
        "usage: SignalRSecure.Bench run [--quick] [--rounds N] [--only G,A,...] [--scenarios echo,latency,connect,memory,flood,cluster,msgpack,history,fanout] [--fanout-seconds S] [--host SETTING,...] [--server-env KEY=VALUE ...] PATHS\n" +
        "       SignalRSecure.Bench hold --kind G|A|B|C|N --connections N --seconds S [--unauthenticated | --churn [--warm-up N] | --echo | --flood | --groups] PATHS\n" +
        "PATHS: --results DIR --server-dll PATH --bench-servers-dll PATH --probe-dll PATH --node-server PATH\n" +
        "SETTING: " + string.Join(", ", RuntimeSettings.Presets.Keys);

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        if (args is ["flood-client", ..])
        {
            string Value(string name) => args.SkipWhile(a => a != name).Skip(1).First();
            return await Scenarios.FloodClient.RunAsync(new Uri(Value("--url")), int.Parse(Value("--count"), System.Globalization.CultureInfo.InvariantCulture), 64,
                TimeSpan.FromSeconds(double.Parse(Value("--give-up-seconds"), System.Globalization.CultureInfo.InvariantCulture)), output);
        }

        if (args is ["login-flood", ..])
        {
            string Value(string name) => args.SkipWhile(a => a != name).Skip(1).First();
            return await Scenarios.LoginFloodClient.RunAsync(new Uri(Value("--url")), int.Parse(Value("--addresses"), System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(Value("--per-address"), System.Globalization.CultureInfo.InvariantCulture),
                TimeSpan.FromSeconds(double.Parse(Value("--timeout-seconds"), System.Globalization.CultureInfo.InvariantCulture)), output);
        }

        if (args is not ["run" or "hold", ..])
        {
            await output.WriteLineAsync(Usage);
            return 2;
        }

        string Option(string name) =>
            args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? throw new ArgumentException($"missing {name}\n{Usage}");

        var results = Path.GetFullPath(Option("--results"));
        var paths = new ServerPaths(
            Path.GetFullPath(Option("--server-dll")),
            Path.GetFullPath(Option("--bench-servers-dll")),
            Path.GetFullPath(Option("--probe-dll")),
            Path.GetFullPath(Option("--node-server")),
            Path.Combine(results, "logs"));
        // --server-env KEY=VALUE (repeatable) reaches every server process: for profiling (DOTNET_PerfMapEnabled=1) or experiments.
        // --host NAME[,NAME] (RuntimeSettings.Presets) comes first, so that an explicit --server-env wins over it.
        var extra = new Dictionary<string, string>(args.Contains("--host")
            ? RuntimeSettings.OfPresets(Option("--host").Split(',', StringSplitOptions.RemoveEmptyEntries))
            : new Dictionary<string, string>());
        foreach (var kv in args.Select((a, i) => (a, i)).Where(p => p.a == "--server-env" && p.i + 1 < args.Length).Select(p => args[p.i + 1].Split('=', 2)))
        {
            extra[kv[0]] = kv.Length > 1 ? kv[1] : string.Empty;
        }

        var launcher = new ServerLauncher(paths, extra);

        if (args[0] == "hold")
        {
            return await HoldAsync(launcher, Enum.Parse<ServerKind>(Option("--kind")), int.Parse(Option("--connections"), System.Globalization.CultureInfo.InvariantCulture),
                TimeSpan.FromSeconds(double.Parse(Option("--seconds"), System.Globalization.CultureInfo.InvariantCulture)),
                args.Contains("--churn") ? HoldMode.Churn : args.Contains("--groups") ? HoldMode.Groups : args.Contains("--echo") ? HoldMode.Echo : args.Contains("--flood") ? HoldMode.Flood : args.Contains("--unauthenticated") ? HoldMode.Unauthenticated : HoldMode.Idle,
                args.Contains("--warm-up") ? int.Parse(Option("--warm-up"), System.Globalization.CultureInfo.InvariantCulture) : 0, output);
        }

        var quick = args.Contains("--quick");
        var servers = args.Contains("--only")
            ? Option("--only").Split(',').Select(Enum.Parse<ServerKind>).ToArray()
            : Enum.GetValues<ServerKind>();
        var scenarios = BenchScenarios.Parse(args.Contains("--scenarios") ? Option("--scenarios") : null);
        var profile = quick ? BenchProfile.Quick() : BenchProfile.Full(MachineInfo.MaxConnections());
        if (args.Contains("--rounds"))
        {
            var rounds = int.Parse(Option("--rounds"), System.Globalization.CultureInfo.InvariantCulture);
            profile = profile with { Rounds = rounds, FloodRounds = rounds };
        }

        if (args.Contains("--fanout-seconds"))
        {
            profile = profile with { FanOutMeasure = TimeSpan.FromSeconds(double.Parse(Option("--fanout-seconds"), System.Globalization.CultureInfo.InvariantCulture)) };
        }

        var machine = await MachineInfo.CollectAsync(paths);
        await output.WriteLineAsync($"SignalRSecure benchmark, {profile.Name} mode: servers {string.Join(' ', servers)}; scenarios {string.Join(' ', BenchScenarios.All.Concat(BenchScenarios.OnRequest).Where(scenarios.Contains))}; {machine.Cpu}, {machine.Cores} cores; open files limit {machine.OpenFilesLimit}");

        await using var load = new MachineLoadSampler();
        var comparison = await new ComparisonRunner(launcher, new RedisLauncher(paths.LogDirectory), profile, servers, scenarios, output).RunAsync();
        comparison.Load = await load.StopAsync();
        var runtime = new SortedDictionary<string, string>(launcher.SameRuntime.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        foreach (var (key, value) in extra)
        {
            runtime[key] = value;
        }

        comparison.RuntimeEnvironment = runtime;
        if (extra.Count > 0)
        {
            comparison.Notes.Add("Extra server environment for this run (host settings and `--server-env`), for every server: " + string.Join(", ", extra.Select(kv => $"`{kv.Key}={kv.Value}`")));
        }

        var written = await new Report(comparison, profile, machine).WriteAsync(results);
        await output.WriteLineAsync($"wrote {string.Join(", ", written)} in {comparison.Duration:mm\\:ss}");
        return 0;
    }

    private static async Task<int> HoldAsync(ServerLauncher launcher, ServerKind kind, int connections, TimeSpan duration, HoldMode mode, int warmUp, TextWriter output)
    {
        using var dialer = new Dialer();
        using var server = await launcher.StartAsync(kind, shippedDoor: mode == HoldMode.Flood);
        using var target = server.CreateTarget();
        await output.WriteLineAsync($"{kind} pid {server.Stats.Pid}: {mode} with {connections} connections for {duration.TotalSeconds} s; rss {server.Stats.ResidentBytes() / 1048576.0:F1} MB");
        if (mode == HoldMode.Churn)
        {
            var result = await Scenarios.ConnectScenario.RunAsync(target, dialer, 64, warmUp, connections, duration, round: 0);
            await output.WriteLineAsync($"{result.PerSecond:F0} connections/s, {result.CpuMicroseconds:F0} us/connection");
            return 0;
        }

        if (mode == HoldMode.Groups)
        {
            // The groups fan-out for as long as asked, to profile the server while it runs: connections = groups x 100.
            using var fanOut = new Scenarios.FanOutScenario(target, dialer);
            await fanOut.GrowForGroupsAsync(Math.Max(1, connections / 100), 100);
            await output.WriteLineAsync($"groups joined; rss {server.Stats.ResidentBytes() / 1048576.0:F1} MB; fan-out for {duration.TotalSeconds} s");
            var result = await fanOut.RunAsync($"{connections / 100} groups x 100", TimeSpan.FromSeconds(1), duration, round: 0);
            await output.WriteLineAsync($"{result.DeliveredPerSecond:F0} delivered/s, {result.CpuMicroseconds:F2} us/delivery, p50 {result.Latency.P50 / 1000:F1} ms, stalls {result.Stalls}, {result.RuntimeSummary}");
            return 0;
        }

        if (mode == HoldMode.Echo)
        {
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                var start = System.Diagnostics.Stopwatch.StartNew();
                while (!sampling.IsCancellationRequested)
                {
                    await output.WriteLineAsync($"t={start.Elapsed.TotalSeconds:F0}s jit={await target.Probe!.CompiledMethodsAsync()}");
                    await Task.Delay(1000);
                }
            });
            var echo = await Scenarios.EchoScenario.ThroughputAsync(target, dialer, connections, TimeSpan.FromSeconds(2), duration, round: 0);
            await sampling.CancelAsync();
            await sampler;
            await output.WriteLineAsync($"{echo.PerSecond:F0} calls/s, {echo.CpuMicroseconds:F2} us/call");
            return 0;
        }

        if (mode == HoldMode.Flood)
        {
            // The flood scenario with the server kept alive for the whole settling time, to look inside it.
            var flood = await Scenarios.FloodScenario.RunAsync(target, dialer, 200, 10, connections, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), duration, round: 0);
            await output.WriteLineAsync($"opened {flood.Opened} in {flood.OpenSeconds:F2} s, closed in time {flood.ClosedInTime}, latest +{flood.MaxLatenessMs:F0} ms");
            await output.WriteLineAsync($"victims p99 us: baseline {flood.Baseline.P99:F0}, during {flood.During.P99:F0} ({flood.During.P99 / flood.Baseline.P99:F2}x), quiet {flood.Quiet.P99:F0}");
            await output.WriteLineAsync($"heap {flood.Before.HeapBytes / 1048576.0:F1} -> {flood.After.HeapBytes / 1048576.0:F1} -> {flood.Settled.HeapBytes / 1048576.0:F1} MB, of which pinned (Kestrel's memory pool) {flood.Before.PinnedBytes / 1048576.0:F1} -> {flood.After.PinnedBytes / 1048576.0:F1} -> {flood.Settled.PinnedBytes / 1048576.0:F1} MB");
            if (flood.DuringRuntime is { } gc)
            {
                await output.WriteLineAsync($"during the flood: {flood.AllocatedKilobytesPerConnection:F1} KB allocated per flood connection, gen0/1/2 collections {gc.Gen0}/{gc.Gen1}/{gc.Gen2}, GC pauses {gc.PauseMs:F0} ms in all, {gc.WorkItems / (double)Math.Max(1, flood.Opened):F1} work items per flood connection, {gc.Threads} pool threads");
            }

            await output.WriteLineAsync("timeline (s: worst victim ms, open flood connections): " + string.Join(" ", flood.Timeline.Select(p => $"{p.Seconds:F2}:{p.MaxLatencyMs:F0},{p.OpenFlood}")));
            return 0;
        }

        if (mode == HoldMode.Idle)
        {
            await target.PrepareAsync(connections, CancellationToken.None);
        }

        var links = new List<HubLink>();
        try
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < connections)
                {
                    var link = await target.OpenAsync(dialer, i, authenticate: mode == HoldMode.Idle);
                    lock (links)
                    {
                        links.Add(link);
                    }
                }
            }));

            var heap = await target.Probe!.CollectAsync();
            await output.WriteLineAsync($"opened; rss {server.Stats.ResidentBytes() / 1048576.0:F1} MB, heap after a full collection {heap.HeapBytes / 1048576.0:F1} MB");
            await Task.Delay(duration);
        }
        finally
        {
            Scenarios.EchoScenario.DisposeAll(links);
        }

        return 0;
    }

    private enum HoldMode
    {
        Idle,
        Unauthenticated,
        Churn,
        Echo,
        Flood,
        Groups,
    }
}
