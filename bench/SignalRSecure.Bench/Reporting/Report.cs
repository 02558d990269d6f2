using System.Globalization;
using System.Text;
using SignalRSecure.Bench.Comparison;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Reporting;

/// <summary>
/// Writes <c>latest.md</c> (targets with the median and worst of the per-round ratios, absolute numbers, machine and
/// configuration) and, through gnuplot, <c>latency.png</c>, <c>memory.png</c> and <c>flood.png</c> from the data files.
/// A run of only the self-contained scenarios (scale out, MessagePack) replaces their sections in an existing
/// <c>latest.md</c> and leaves the rest of it, and the plots, as they were.
/// </summary>
internal sealed class Report(ComparisonResults results, BenchProfile profile, MachineInfo machine)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly StringBuilder _md = new();

    private const string ScaleOutHeading = "## 7. ";
    private const string MessagePackHeading = "## 8. ";
    private const string HistoryHeading = "## 9. ";
    private const string MachineHeading = "## Machine and configuration";

    public async Task<IReadOnlyList<string>> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var latest = Path.Combine(directory, "latest.md");
        if (BenchScenarios.OnlySelfContained(results.Scenarios))
        {
            var sections = new List<string>();
            if (results.Scenarios.Contains(BenchScenarios.Cluster))
            {
                sections.Add(Capture(WriteScaleOut));
            }

            if (results.Scenarios.Contains(BenchScenarios.MessagePack))
            {
                sections.Add(Capture(WriteMessagePack));
            }

            if (results.Scenarios.Contains(BenchScenarios.History))
            {
                sections.Add(Capture(WriteHistory));
            }

            // Into the report already there; without one, a report of just these sections and the machine's.
            var existing = File.Exists(latest)
                ? await File.ReadAllTextAsync(latest)
                : $"# SignalRSecure benchmark: {profile.Name} comparison\n\n" + Capture(WriteMachine);
            await File.WriteAllTextAsync(latest, Splice(existing, sections));
            return [latest];
        }

        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(data);
        WriteMarkdown();
        var written = new List<string> { Path.Combine(directory, "latest.md") };
        await File.WriteAllTextAsync(written[0], _md.ToString());
        written.AddRange(await Plots.WriteAsync(results, directory, data));
        return written;
    }

    private void WriteMarkdown()
    {
        Line($"# SignalRSecure benchmark: {profile.Name} comparison");
        Line();
        Line($"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC in {results.Duration:mm\\:ss}; {profile.Rounds} interleaved round(s) per scenario " +
             $"({string.Join("; ", results.Orders.Select(o => $"round {o.Key}: {string.Join(' ', o.Value)}"))}), a freshly started server for every measurement. " +
             "Ratios are computed within each round and summarised as the median, a bootstrap interval of the median and the worst round.");
        Line();
        Line("Servers: " + string.Join("; ", Enum.GetValues<ServerKind>().Select(k => $"**{k}** {ServerKinds.Describe(k)}")) + ".");
        Line();
        WriteTargets();
        WriteEcho();
        WriteLatency();
        WriteFanOut();
        WriteConnect();
        WriteMemory();
        WriteFlood();
        WriteScaleOut();
        WriteMessagePack();
        WriteHistory();
        WriteMachine();
        if (results.Notes.Count > 0)
        {
            Line("## Notes");
            Line();
            foreach (var note in results.Notes)
            {
                Line($"- {note}");
            }

            Line();
        }
    }

    private void WriteTargets()
    {
        Line("## Targets");
        Line();
        Line($"Each verdict is read from the {MedianInterval.Confidence * 100:F0}% bootstrap interval of the median of the per-round values ({MedianInterval.DefaultResamples:N0} resamples of the rounds, seed {MedianInterval.DefaultSeed}): " +
             $"**met** when the whole interval is on the good side of the goal, **missed** when it is all on the bad side, undecided otherwise or with fewer than {MedianInterval.MinimumRounds} rounds.");
        Line();
        Line("| target | median | 95% interval | worst round | rounds | goal | verdict |");
        Line("|---|---|---|---|---|---|---|");
        Ratio("Echo throughput G/A", Per(results.Echo, ServerKind.G, ServerKind.A, e => e.PerSecond), ">=", 0.97);
        Ratio("Echo throughput G/B", Per(results.Echo, ServerKind.G, ServerKind.B, e => e.PerSecond), ">=", 1.0);
        Ratio("Server CPU per echo G/A", Per(results.Echo, ServerKind.G, ServerKind.A, e => e.CpuMicroseconds), "<=", 1.03);
        Ratio("Echo p99 latency G/A (open loop, half of A's maximum)", Per(results.Latency, ServerKind.G, ServerKind.A, e => e.Latency.P99), "<=", 1.05);
        foreach (var shape in results.FanOut.Select(f => f.Shape).Distinct())
        {
            Ratio($"Fan-out {shape}: delivered/s G/A", Per(results.FanOut.Where(f => f.Shape == shape), ServerKind.G, ServerKind.A, f => f.DeliveredPerSecond), ">=", 0.95);
        }

        Ratio("Authenticated connections/s G/B", Per(results.Connect, ServerKind.G, ServerKind.B, c => c.PerSecond), ">=", 0.9);
        Ratio("Authenticated connections/s G/N", Per(results.Connect, ServerKind.G, ServerKind.N, c => c.PerSecond), ">=", 1.0);
        Ratio("Echo calls/s per server core G/N", Per(results.Echo, ServerKind.G, ServerKind.N, e => 1e6 / e.CpuMicroseconds), ">=", 0.8);

        var memoryDiff = Per(results.Memory, ServerKind.G, ServerKind.A, m => m.Slope.Resident / 1024, (g, a) => g - a);
        Ratio("Memory per idle connection, G minus A (RSS slope, KB)", memoryDiff, "<=", 0.5, "F2");
        Ratio("Memory per idle connection, G minus A (heap slope, KB)", Per(results.Memory, ServerKind.G, ServerKind.A, m => m.Slope.Heap / 1024, (g, a) => g - a), "<=", 0.5, "F2");
        Ratio("Memory per idle connection, G (RSS slope, KB)", results.Memory.Where(m => m.Server == ServerKind.G).Select(m => m.Slope.Resident / 1024).ToList(), "<=", 20, "F1");
        Ratio("Memory per idle connection, G (heap slope, KB)", results.Memory.Where(m => m.Server == ServerKind.G).Select(m => m.Slope.Heap / 1024).ToList(), "<=", 20, "F1");

        if (results.ClusterFanOut.Count > 0)
        {
            Ratio("Scale out: broadcast delivered/s, cross-node / one node with Redis", PerSetup(results.ClusterFanOut, ClusterSetup.CrossNode, ClusterSetup.Redis), ">=", 0.7);
            Ratio("Scale out: broadcast delivered/s, cross-node / one node in memory", PerSetup(results.ClusterFanOut, ClusterSetup.CrossNode, ClusterSetup.Memory), ">=", 0.7);
        }

        if (results.ClusterConnect.Count > 0)
        {
            Ratio("Scale out: authenticated connections/s, G on Redis / in memory", ConnectRatio(ServerKind.G), ">=", 0.85);
        }

        if (results.MessagePackEcho.Count > 0)
        {
            Ratio("MessagePack: echo throughput G/A", Per(results.MessagePackEcho, ServerKind.G, ServerKind.A, e => e.PerSecond), ">=", 0.97);
            Ratio("MessagePack: broadcast delivered/s G/A", Per(results.MessagePackFanOut, ServerKind.G, ServerKind.A, f => f.DeliveredPerSecond), ">=", 0.95);
        }

        if (results.HistoryFanOut.Count > 0)
        {
            Ratio("History: broadcast delivered/s, history on / off, one node", PerHistory(crossNode: false), ">=", 0.9);
        }

        if (results.Flood.Count > 0)
        {
            var first = results.Flood[0];
            var allClosed = results.Flood.All(f => f.ClosedInTime == f.Opened && f.Refused == 0);
            Line($"| Flood: unauthenticated connections closed by deadline + 1 s | {string.Join(", ", results.Flood.Select(f => $"{f.ClosedInTime:N0}/{f.Connections:N0}, latest +{f.MaxLatenessMs:F0} ms"))} | | | {results.Flood.Count} | all | {(allClosed ? "met" : "**missed**")} |");
            Ratio("Flood: victims' p99 during / baseline", results.Flood.Select(f => f.During.P99 / f.Baseline.P99).ToList(), "<=", 2);
            Ratio("Flood: victims' p99 while the flood is open and idle / baseline (not a target)", results.Flood.Select(f => f.Quiet.P99 / f.Baseline.P99).ToList(), "<=", 2);
            Ratio($"Flood: heap {first.SettleTime.TotalSeconds:F0} s after the flood minus before (MB)", results.Flood.Select(f => (f.Settled.HeapBytes - f.Before.HeapBytes) / 1048576.0).ToList(), "<=", 2, "F1");
        }

        Line();
    }

    private void WriteEcho()
    {
        Line($"## 1. Echo throughput ({profile.EchoConnections} connections, one call outstanding each, {Frames.TextLength}-character text)");
        Line();
        Line("| server | calls/s | server CPU us/call | server cores busy | p50 us | p99 us | errors |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var group in ByServer(results.Echo, e => e.Server))
        {
            Line($"| {group.Key} | {Med(group, e => e.PerSecond):N0} | {Med(group, e => e.CpuMicroseconds):F2} | {Med(group, e => e.ServerCores):F2} | {Med(group, e => e.Latency.P50):F0} | {Med(group, e => e.Latency.P99):F0} | {group.Sum(e => e.Errors)} |");
        }

        Line();
        Ratios("A/C", Per(results.Echo, ServerKind.A, ServerKind.C, e => e.PerSecond));
        Ratios("G/N", Per(results.Echo, ServerKind.G, ServerKind.N, e => e.PerSecond));
        Line($"Per round (calls/s): {string.Join("; ", results.Echo.GroupBy(e => e.Round).Select(r => $"round {r.Key}: " + string.Join(", ", r.Select(e => $"{e.Server} {e.PerSecond:F0}"))))}.");
        Line();
        Line("Spread of the same server across rounds (fastest / slowest round), the noise floor of this machine for the ratios above: " +
             string.Join(", ", ByServer(results.Echo, e => e.Server).Select(g => $"{g.Key} {g.Max(e => e.PerSecond) / g.Min(e => e.PerSecond):F2}")) + ".");
        Line();
    }

    private void WriteLatency()
    {
        Line($"## 2. Echo latency at {results.LatencyRate:N0} calls/s (half of A's median maximum), open loop, {profile.EchoConnections} connections");
        Line();
        Line("| server | achieved/s | p50 us | p90 us | p99 us | p99.9 us | max us | missing |");
        Line("|---|---|---|---|---|---|---|---|");
        foreach (var group in ByServer(results.Latency, e => e.Server))
        {
            Line($"| {group.Key} | {Med(group, e => e.AchievedRate):N0} | {Med(group, e => e.Latency.P50):F0} | {Med(group, e => e.Latency.P90):F0} | {Med(group, e => e.Latency.P99):F0} | {Med(group, e => e.Latency.P999):F0} | {Med(group, e => e.Latency.Max):F0} | {group.Sum(e => e.Missing)} |");
        }

        Line();
        Line($"Per round (p99 us): {string.Join("; ", results.Latency.GroupBy(e => e.Round).Select(r => $"round {r.Key}: " + string.Join(", ", r.Select(e => $"{e.Server} {e.Latency.P99:F0}"))))}.");
        Line();
        Line("![latency](latency.png)");
        Line();
    }

    private void WriteFanOut()
    {
        Line($"## 3. Fan-out (closed-loop senders, the broadcast's at most {FanOutScenario.Window} messages ahead of its receivers, each group's at most {FanOutScenario.GroupWindow}; latency per recipient from the send)");
        Line();
        Line("| shape | server | delivered/s | server CPU us/delivery | p50 ms | p99 ms | bytes/delivery | deliveries per WebSocket message | allocated B/delivery | GC pause us/delivery |");
        Line("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var shape in results.FanOut.GroupBy(f => f.Shape))
        {
            foreach (var group in ByServer(shape, f => f.Server))
            {
                Line($"| {shape.Key} | {group.Key} | {Med(group, f => f.DeliveredPerSecond):N0} | {Med(group, f => f.CpuMicroseconds):F2} | {Med(group, f => f.Latency.P50) / 1000:F1} | {Med(group, f => f.Latency.P99) / 1000:F1} | " +
                     $"{Med(group, f => f.BytesPerDelivery):F0} | {Med(group, f => f.RecordsPerMessage):F2} | {Med(group, f => f.AllocatedBytesPerDelivery):N0} | {Med(group, f => f.GcPauseMicrosecondsPerDelivery):F2} |");
            }
        }

        Line();
        Line("C has no groups. The load generator has one core for all receivers; the server CPU per delivery is the figure that does not depend on it. " +
             "Bytes per delivery is the message a receiver got (G's carries its history id where A's and B's carry `\"id\":null`, 13 bytes more); " +
             "allocation and GC pause come from the server's runtime (0 for N), the pause in wall-clock time.");
        Line();
    }

    private void WriteConnect()
    {
        Line($"## 4. Connections per second ({profile.Connectors} concurrent connectors, {profile.ConnectCount:N0} connections after {profile.ConnectWarmUp:N0} to warm up)");
        Line();
        Line("Each loop: TCP connect, WebSocket upgrade, SignalR handshake, then G and N `Authenticate(ticket)` (tickets minted beforehand), B a token in the query string, A nothing more, C no handshake; then a clean WebSocket close.");
        Line();
        Line("| server | ready connections/s | server CPU us/connection | p50 ms to ready | p99 ms to ready | failures |");
        Line("|---|---|---|---|---|---|");
        foreach (var group in ByServer(results.Connect, c => c.Server))
        {
            Line($"| {group.Key} | {Med(group, c => c.PerSecond):N0} | {Med(group, c => c.CpuMicroseconds):F0} | {Med(group, c => c.TimeToReady.P50) / 1000:F2} | {Med(group, c => c.TimeToReady.P99) / 1000:F2} | {group.Sum(c => c.Failures)} |");
        }

        Line();
    }

    private void WriteMemory()
    {
        Line("## 5. Memory per idle authenticated connection");
        Line();
        Line("RSS from /proc; heap after a full blocking compacting collection (.NET: `GC.GetTotalMemory` through a startup hook; N: V8 heap used + external). " +
             "Slope between the middle and the top point; average from no connections to the top point.");
        Line();
        Line("| server | connections | RSS MB | heap MB | RSS KB/conn (slope) | heap KB/conn (slope) | RSS KB/conn (average) | heap KB/conn (average) |");
        Line("|---|---|---|---|---|---|---|---|");
        foreach (var group in ByServer(results.Memory, m => m.Server))
        {
            var top = group.First().Points[^1];
            var mid = group.First().Points.LastOrDefault(p => p.Connections <= top.Connections / 2 && p.Connections > 0) ?? top;
            Line($"| {group.Key} | {mid.Connections:N0} / {top.Connections:N0} | {Med(group, m => Point(m, mid.Connections).ResidentBytes) / 1048576:F0} / {Med(group, m => m.Points[^1].ResidentBytes) / 1048576:F0} | " +
                 $"{Med(group, m => Point(m, mid.Connections).HeapBytes) / 1048576:F0} / {Med(group, m => m.Points[^1].HeapBytes) / 1048576:F0} | " +
                 $"{Med(group, m => m.Slope.Resident) / 1024:F2} | {Med(group, m => m.Slope.Heap) / 1024:F2} | {Med(group, m => m.Average.Resident) / 1024:F2} | {Med(group, m => m.Average.Heap) / 1024:F2} |");
        }

        Line();
        Line($"GC mode of the .NET servers: {(results.Memory.FirstOrDefault(m => m.Server != ServerKind.N)?.ServerGc == true ? "server" : "workstation")} (what `DOTNET_PROCESSOR_COUNT=1` gives a web app).");
        Line();
        Line("![memory](memory.png)");
        Line();
    }

    private void WriteFlood()
    {
        if (results.Flood.Count == 0)
        {
            return;
        }

        var first = results.Flood[0];
        Line($"## 6. Flood: {first.Connections:N0} connections that never authenticate, against {profile.FloodVictims} authenticated clients echoing {profile.FloodVictimRate:F0}/s each (G)");
        Line();
        Line($"Deadline `AuthenticationTimeout` = {first.Deadline.TotalSeconds:F0} s. An attacker process of its own (niced, on the load generator's core) opens the flood " +
             "with 64 connectors as fast as the server lets it in; each flood connection does the upgrade and the handshake, then waits to be closed. " +
             "G runs with its shipped pace of new connections (`NewConnectionsPerSecond` 1,000, burst 100). " +
             "\"During\" is from the start of the flood to the last close; \"quiet\" is while all are open and none has reached its deadline.");
        Line();
        Line($"Memory is looked at before the flood, 2 s after the last close, and {first.SettleTime.TotalSeconds:F0} s later (heap after a full collection).");
        Line();
        Line("The server's runtime during the flood (from its start to the last close; counters of the runtime, which hardly depend on the machine's load, unlike the latencies they explain): " +
             "bytes allocated per flood connection (less what the victims allocate at their baseline rate over as long), collections per generation and the total time the GC paused the server.");
        Line();
        Line("| round | opened in s | closed by deadline + 1 s | latest close after deadline | p99 close after deadline | victims p99 baseline us | during us | quiet us | victim errors | heap before / +2 s / later MB | of which pinned (Kestrel's pool) MB | RSS before / +2 s / later MB | KB allocated per flood connection | gen0 / gen1 / gen2 | GC pauses ms |");
        Line("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var flood in results.Flood)
        {
            var gc = flood.DuringRuntime;
            Line($"| {flood.Round} | {flood.OpenSeconds:F2} | {flood.ClosedInTime:N0}/{flood.Opened:N0} (refused {flood.Refused}) | {flood.MaxLatenessMs:F0} ms | {flood.P99LatenessMs:F0} ms | {flood.Baseline.P99:F0} | {flood.During.P99:F0} | {flood.Quiet.P99:F0} | {flood.VictimErrors} | " +
                 $"{flood.Before.HeapBytes / 1048576.0:F1} / {flood.After.HeapBytes / 1048576.0:F1} / {flood.Settled.HeapBytes / 1048576.0:F1} | {flood.Before.PinnedBytes / 1048576.0:F1} / {flood.After.PinnedBytes / 1048576.0:F1} / {flood.Settled.PinnedBytes / 1048576.0:F1} | {flood.Before.ResidentBytes / 1048576.0:F0} / {flood.After.ResidentBytes / 1048576.0:F0} / {flood.Settled.ResidentBytes / 1048576.0:F0} | " +
                 (gc is null ? "| | |" : $"{flood.AllocatedKilobytesPerConnection:F1} | {gc.Gen0} / {gc.Gen1} / {gc.Gen2} | {gc.PauseMs:F0} |"));
        }

        Line();
        Line("![flood](flood.png)");
        Line();
    }

    private void WriteMachine()
    {
        Line("## Machine and configuration");
        Line();
        Line($"- CPU: {machine.Cpu}, {machine.Cores} cores; memory {machine.Memory}; {machine.Os}, kernel {machine.Kernel}");
        Line($"- .NET SDK {machine.DotnetSdk} ({machine.DotnetRuntime}); Node {machine.Node} with ws {machine.Ws}; {machine.Redis} for the scale-out scenarios");
        if (results.Load is { } load)
        {
            Line($"- Machine load during this run: {load.Describe()}. Other processes share this machine's cores.");
        }

        Line("- Servers pinned to core 0 (`taskset -c 0`), the load generator to core 1; .NET servers with `DOTNET_PROCESSOR_COUNT=1`, Release builds, `ASPNETCORE_ENVIRONMENT=Production`; plaintext HTTP/1.1 WebSockets on 127.0.0.1, clients from 127.0.0.2-127.0.0.9.");
        Line($"- Open files limit {machine.OpenFilesLimit} per process (the hard limit here), so the top memory point is {profile.MemorySteps[^1]:N0} connections.");
        Line("- Load generator: one .NET process, `ClientWebSocket` over `SocketsHttpHandler.ConnectCallback` bound to the source address, pre-encoded frames patched in place, HDR-style log-linear histogram (3 significant digits), `DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1`.");
        Line("- G is the real server (`SignalRSecure.Server.dll` built from this repository, its appsettings.json, Information logging to a file) with these environment overrides, needed because one machine's load looks like the floods the defaults refuse (20 unauthenticated / 200 connections per IP, 30 calls/s per connection, 60 ticket requests/min per IP); nothing else is weakened:");
        var inTheFlood = ServerLauncher.GatedOverrides(profile.FloodDeadline, shippedDoor: true);
        foreach (var (key, value) in ServerLauncher.GatedOverrides(profile.FloodDeadline))
        {
            var scope = key.EndsWith("AuthenticationTimeout", StringComparison.Ordinal) ? " (flood scenario only)"
                : inTheFlood.ContainsKey(key) ? string.Empty
                : " (all scenarios but the flood, which runs with the shipped pace of new connections)";
            Line($"  - `{key}={value}`{scope}");
        }

        Line("- Every .NET server (A, B, C, G) runs with the same runtime settings: G's own, from the runtimeconfig.json it ships (see the README's Performance section), given to A, B and C as environment variables, and any host settings of the run on top: " +
             (results.RuntimeEnvironment.Count == 0 ? "none." : string.Join(", ", results.RuntimeEnvironment.Select(kv => $"`{kv.Key}={kv.Value}`")) + "."));
        Line("- N gets the same limits: " + string.Join(", ", ServerLauncher.NodeOverrides(profile.FloodDeadline).Select(kv => $"`{kv.Key}={kv.Value}`")) + ".");
        Line("- B validates HS256 JWTs with an `AuthenticationHandler` written for the bench (signature, exp/nbf with 5 min skew, issuer, audience; `sub` as the user id): `Microsoft.AspNetCore.Authentication.JwtBearer` does not restore from this machine's package source (its `Microsoft.IdentityModel.Protocols.OpenIdConnect` >= 8.19.2 dependency is missing).");
        Line();
    }

    private void WriteScaleOut()
    {
        if (results.ClusterFanOut.Count == 0 && results.ClusterConnect.Count == 0)
        {
            return;
        }

        Line($"{ScaleOutHeading}Scale out on Redis (G): a broadcast across nodes, and the ticket store's cost");
        Line();
        Line(RunLine("the scale-out scenarios", results.ClusterFanOut.Select(f => f.Round).Concat(results.ClusterConnect.Select(c => c.Round)).DefaultIfEmpty().Max()));
        Line();
        Line("Setups: " + string.Join("; ", Enum.GetValues<ClusterSetup>().Select(s => $"**{Name(s)}** {ClusterSetups.Describe(s)}")) + ". " +
             $"Each measurement starts a fresh `redis-server` ({machine.Redis}; `--save '' --appendonly no`, on 127.0.0.1 and a free port) and fresh nodes, " +
             "all pinned to core 0 like the other servers, with the same issuer key and limits as G elsewhere; a node with Redis gets only `SignalRSecure__Redis__Configuration`. " +
             "Server CPU counts every node and Redis together. Interleaved orders: broadcast memory, Redis, cross-node, then the reverse, then Redis, cross-node, memory; connections memory, Redis, then the reverse.");
        Line();
        if (results.ClusterFanOut.Count > 0)
        {
            var shape = results.ClusterFanOut[0].Result.Shape;
            Line($"### {shape} (closed-loop sender at most {FanOutScenario.Window} messages ahead; the receivers of cross-node all on node B, the sender on node A)");
            Line();
            Line("| setup | delivered/s | server CPU us/delivery | p50 ms | p99 ms | stalls |");
            Line("|---|---|---|---|---|---|");
            foreach (var group in results.ClusterFanOut.GroupBy(f => f.Setup).OrderBy(g => g.Key))
            {
                Line($"| {Name(group.Key)} | {Med(group, f => f.Result.DeliveredPerSecond):N0} | {Med(group, f => f.Result.CpuMicroseconds):F2} | {Med(group, f => f.Result.Latency.P50) / 1000:F1} | {Med(group, f => f.Result.Latency.P99) / 1000:F1} | {group.Sum(f => f.Result.Stalls)} |");
            }

            Line();
            RatioHeader();
            SpreadRatio("delivered/s, cross-node / one node with Redis", PerSetup(results.ClusterFanOut, ClusterSetup.CrossNode, ClusterSetup.Redis), ">=", 0.7);
            SpreadRatio("delivered/s, cross-node / one node in memory", PerSetup(results.ClusterFanOut, ClusterSetup.CrossNode, ClusterSetup.Memory), ">=", 0.7);
            SpreadRatio("delivered/s, one node with Redis / in memory (not a target)", PerSetup(results.ClusterFanOut, ClusterSetup.Redis, ClusterSetup.Memory), ">=", 0.7);
            SpreadRatio("server CPU per delivery, cross-node / one node in memory (not a target)", PerSetup(results.ClusterFanOut, ClusterSetup.CrossNode, ClusterSetup.Memory, f => f.CpuMicroseconds), "<=", 1.43);
            Line();
            Line($"Per round (delivered/s): {string.Join("; ", results.ClusterFanOut.GroupBy(f => f.Round).Select(r => $"round {r.Key}: " + string.Join(", ", r.Select(f => $"{Name(f.Setup)} {f.Result.DeliveredPerSecond:F0}"))))}.");
            Line();
            Line("Spread of the same setup across rounds (fastest / slowest round): " +
                 string.Join(", ", results.ClusterFanOut.GroupBy(f => f.Setup).OrderBy(g => g.Key).Select(g => $"{Name(g.Key)} {g.Max(f => f.Result.DeliveredPerSecond) / g.Min(f => f.Result.DeliveredPerSecond):F2}")) + ".");
            Line();
        }

        if (results.ClusterConnect.Count > 0)
        {
            Line($"### Authenticated connections per second and Authenticate time, on Redis against in memory ({profile.Connectors} connectors, {profile.ConnectCount:N0} connections after {profile.ConnectWarmUp:N0}; then {profile.AuthenticateSamples:N0} one at a time)");
            Line();
            Line("Each loop as in section 4: TCP connect, upgrade, handshake, then for G `Authenticate(ticket)` with a ticket minted on the same node beforehand (with Redis: stored in Redis and redeemed there), clean close. " +
                 "B, stock SignalR authentication (the token on the upgrade), runs the same loops on the same setups as the reference for what SignalR's own Redis backplane costs a connection (it subscribes each connection's and each user's channel, and unsubscribes them on close), which G pays too. " +
                 "Authenticate time is from sending Authenticate to its completion; \"one at a time\" is a single connector, the store's time without queueing.");
            Line();
            Line("| server | setup | connections/s | server CPU us/connection | p50 / p99 ms to ready | Authenticate p50 / p99 ms (concurrent) | Authenticate p50 / p99 ms (one at a time) | failures |");
            Line("|---|---|---|---|---|---|---|---|");
            foreach (var group in results.ClusterConnect.GroupBy(c => (c.Rate.Server, c.Setup)).OrderByDescending(g => g.Key.Server).ThenBy(g => g.Key.Setup))
            {
                var authenticate = group.Key.Server == ServerKind.G
                    ? $"{Med(group, c => c.Rate.Authenticate.P50) / 1000:F2} / {Med(group, c => c.Rate.Authenticate.P99) / 1000:F2} | {Med(group, c => c.Alone.Authenticate.P50) / 1000:F3} / {Med(group, c => c.Alone.Authenticate.P99) / 1000:F3}"
                    : "n/a | n/a";
                Line($"| {group.Key.Server} | {Name(group.Key.Setup)} | {Med(group, c => c.Rate.PerSecond):N0} | {Med(group, c => c.Rate.CpuMicroseconds):F0} | {Med(group, c => c.Rate.TimeToReady.P50) / 1000:F2} / {Med(group, c => c.Rate.TimeToReady.P99) / 1000:F2} | " +
                     $"{authenticate} | {group.Sum(c => c.Rate.Failures + c.Alone.Failures)} |");
            }

            Line();
            RatioHeader();
            var gated = ConnectRatio(ServerKind.G);
            var stock = ConnectRatio(ServerKind.B);
            SpreadRatio("G connections/s, Redis / in memory", gated, ">=", 0.85);
            SpreadRatio("B connections/s, SignalR's Redis backplane / in memory (the reference, not a target)", stock, ">=", 0.85);
            SpreadRatio("G's Redis / memory ratio over B's, per round (not a target)", [.. gated.Zip(stock, (g, b) => g / b)], ">=", 1);
            SpreadRatio("G server CPU per connection, Redis / in memory (not a target)", ConnectRatio(ServerKind.G, c => c.Rate.CpuMicroseconds), "<=", 1.18);
            SpreadRatio("G Authenticate p50 one at a time, Redis / memory (not a target)", ConnectRatio(ServerKind.G, c => c.Alone.Authenticate.P50), "<=", 2);
            SpreadRatio("G Authenticate p99 one at a time, Redis / memory (not a target)", ConnectRatio(ServerKind.G, c => c.Alone.Authenticate.P99), "<=", 2);
            Line();
            Line($"Per round (connections/s): {string.Join("; ", results.ClusterConnect.GroupBy(c => c.Round).Select(r => $"round {r.Key}: " + string.Join(", ", r.Select(c => $"{c.Rate.Server} {Name(c.Setup)} {c.Rate.PerSecond:F0}"))))}.");
            Line();
            Line("Spread of the same server and setup across rounds (fastest / slowest round): " +
                 string.Join(", ", results.ClusterConnect.GroupBy(c => (c.Rate.Server, c.Setup)).OrderByDescending(g => g.Key.Server).ThenBy(g => g.Key.Setup)
                     .Select(g => $"{g.Key.Server} {Name(g.Key.Setup)} {g.Max(c => c.Rate.PerSecond) / g.Min(c => c.Rate.PerSecond):F2}")) + ".");
            Line();
        }
    }

    private void WriteMessagePack()
    {
        if (!results.Scenarios.Contains(BenchScenarios.MessagePack))
        {
            return;
        }

        Line($"{MessagePackHeading}MessagePack: echo and broadcast, G against A");
        Line();
        Line(RunLine("the MessagePack scenarios", results.MessagePackEcho.Select(e => e.Round).DefaultIfEmpty().Max()));
        Line();
        Line("The load generator speaks SignalR's MessagePack protocol with hand-encoded, pre-encoded frames (a varint length prefix, then " +
             "`[1, {}, invocationId, target, [arguments], []]`; the handshake `{\"protocol\":\"messagepack\",\"version\":1}` in JSON) and reads completions and " +
             $"deliveries the same way. A registers `AddMessagePackProtocol()`; G is started with `{MessagePackRunner.ProtocolsVariable}={MessagePackRunner.Protocols}`. " +
             $"Echo as in section 1 ({profile.EchoConnections} connections, one call outstanding each), broadcast as in section 3; interleaved A G, then G A; a fresh server for each measurement.");
        Line();
        foreach (var (kind, answer) in results.MessagePackRefused)
        {
            Line($"**{kind} refused MessagePack, so its runs were skipped**: it answered `{answer.Replace("`", "'", StringComparison.Ordinal)}`. " +
                 (kind == ServerKind.G ? $"This build of the server does not accept `{MessagePackRunner.ProtocolsVariable}` yet; the scenario measures it as soon as it does." : string.Empty));
            Line();
        }

        if (results.MessagePackEcho.Count == 0)
        {
            return;
        }

        Line("| server | echo calls/s | server CPU us/call | echo p99 us | broadcast | delivered/s | server CPU us/delivery | p99 ms |");
        Line("|---|---|---|---|---|---|---|---|");
        foreach (var group in ByServer(results.MessagePackEcho, e => e.Server))
        {
            var fanOut = results.MessagePackFanOut.Where(f => f.Server == group.Key).ToList();
            Line($"| {group.Key} | {Med(group, e => e.PerSecond):N0} | {Med(group, e => e.CpuMicroseconds):F2} | {Med(group, e => e.Latency.P99):F0} | {fanOut.FirstOrDefault()?.Shape} | " +
                 $"{Med(fanOut, f => f.DeliveredPerSecond):N0} | {Med(fanOut, f => f.CpuMicroseconds):F2} | {Med(fanOut, f => f.Latency.P99) / 1000:F1} |");
        }

        Line();
        RatioHeader();
        SpreadRatio("echo throughput G/A (JSON's goal)", Per(results.MessagePackEcho, ServerKind.G, ServerKind.A, e => e.PerSecond), ">=", 0.97);
        SpreadRatio("server CPU per echo G/A (JSON's goal)", Per(results.MessagePackEcho, ServerKind.G, ServerKind.A, e => e.CpuMicroseconds), "<=", 1.03);
        SpreadRatio("broadcast delivered/s G/A (JSON's goal)", Per(results.MessagePackFanOut, ServerKind.G, ServerKind.A, f => f.DeliveredPerSecond), ">=", 0.95);
        foreach (var kind in results.MessagePackEcho.Select(e => e.Server).Distinct().Where(k => results.Echo.Any(e => e.Server == k)).Order())
        {
            SpreadRatio($"echo throughput {kind}, MessagePack / JSON (section 1; not a target)", [.. results.MessagePackEcho.Where(e => e.Server == kind)
                .Join(results.Echo.Where(e => e.Server == kind), m => m.Round, j => j.Round, (m, j) => m.PerSecond / j.PerSecond)], ">=", 1);
        }

        Line();
        Line($"Per round (echo calls/s; broadcast delivered/s): {string.Join("; ", results.MessagePackEcho.GroupBy(e => e.Round).Select(r => $"round {r.Key}: " + string.Join(", ", r.Select(e => $"{e.Server} {e.PerSecond:F0}; {results.MessagePackFanOut.FirstOrDefault(f => f.Server == e.Server && f.Round == e.Round)?.DeliveredPerSecond:F0}"))))}.");
        Line();
        Line("Spread of the same server across rounds (fastest / slowest round, echo): " +
             string.Join(", ", ByServer(results.MessagePackEcho, e => e.Server).Select(g => $"{g.Key} {g.Max(e => e.PerSecond) / g.Min(e => e.PerSecond):F2}")) + ".");
        Line();
    }

    private void WriteHistory()
    {
        if (results.HistoryFanOut.Count == 0)
        {
            return;
        }

        var shape = results.HistoryFanOut[0].Result.Shape;
        Line($"{HistoryHeading}History: {shape} with the chat history on against off (G)");
        Line();
        Line(RunLine("the history scenario", results.HistoryFanOut.Select(f => f.Round).DefaultIfEmpty().Max()));
        Line();
        Line($"G with history on (the default: every message is appended to its group's history before it is delivered, in memory on one node, " +
             $"`XADD` to a Redis stream across nodes) against the same server started with `{HistoryRunner.HistoryVariable}=false` (messages go out " +
             "without an id, nothing is stored). One node in memory, and two nodes on one fresh `redis-server` with the sender on node A and the receivers " +
             $"on node B, as in section 7. Closed-loop sender at most {FanOutScenario.Window} messages ahead; interleaved orders, then the reverse; fresh processes for each measurement; " +
             "server CPU counts every node and Redis together.");
        Line();
        Line("| setup | history | delivered/s | server CPU us/delivery | p50 ms | p99 ms | stalls |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var group in results.HistoryFanOut.GroupBy(f => (f.CrossNode, f.History)).OrderBy(g => g.Key.CrossNode).ThenByDescending(g => g.Key.History))
        {
            Line($"| {(group.Key.CrossNode ? "cross-node" : "one node")} | {(group.Key.History ? "on" : "off")} | {Med(group, f => f.Result.DeliveredPerSecond):N0} | {Med(group, f => f.Result.CpuMicroseconds):F2} | " +
                 $"{Med(group, f => f.Result.Latency.P50) / 1000:F1} | {Med(group, f => f.Result.Latency.P99) / 1000:F1} | {group.Sum(f => f.Result.Stalls)} |");
        }

        Line();
        RatioHeader();
        SpreadRatio("delivered/s, history on / off, one node", PerHistory(crossNode: false), ">=", 0.9);
        SpreadRatio("delivered/s, history on / off, cross-node (not a target)", PerHistory(crossNode: true), ">=", 0.9);
        SpreadRatio("server CPU per delivery, history on / off, one node (not a target)", PerHistory(crossNode: false, f => f.CpuMicroseconds), "<=", 1.1);
        Line();
        Line($"Per round (delivered/s): {string.Join("; ", results.HistoryFanOut.GroupBy(f => f.Round).Select(r => $"round {r.Key}: " + string.Join(", ", r.Select(f => $"{(f.CrossNode ? "cross-node" : "one node")} {(f.History ? "on" : "off")} {f.Result.DeliveredPerSecond:F0}"))))}.");
        Line();
    }

    private List<double> PerHistory(bool crossNode, Func<FanOut, double>? value = null)
    {
        value ??= f => f.DeliveredPerSecond;
        var list = results.HistoryFanOut.Where(f => f.CrossNode == crossNode).ToList();
        return [.. list.Where(f => f.History).Join(list.Where(f => !f.History), a => a.Round, b => b.Round, (a, b) => value(a.Result) / value(b.Result))];
    }

    /// <summary>When the section's numbers were taken and how loaded the machine was: sections may come from separate runs.</summary>
    private string RunLine(string what, int rounds) =>
        $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC ({profile.Name} profile, {rounds} interleaved round(s); this run took {results.Duration:mm\\:ss} for {string.Join(", ", BenchScenarios.All.Where(results.Scenarios.Contains))}) for {what}. " +
        (results.Load is { } load ? $"Machine load: {load.Describe()}." : string.Empty);

    private static string Name(ClusterSetup setup) => setup switch
    {
        ClusterSetup.Memory => "memory",
        ClusterSetup.Redis => "Redis",
        ClusterSetup.CrossNode => "cross-node",
        _ => setup.ToString(),
    };

    private static List<double> PerSetup(IEnumerable<ClusterFanOut> items, ClusterSetup x, ClusterSetup y, Func<FanOut, double>? value = null)
    {
        var list = items.ToList();
        value ??= f => f.DeliveredPerSecond;
        return [.. list.Where(i => i.Setup == x).Join(list.Where(i => i.Setup == y), a => a.Round, b => b.Round, (a, b) => value(a.Result) / value(b.Result))];
    }

    /// <summary><paramref name="server"/>'s Redis / memory ratio of <paramref name="value"/> (connections/s by default), per round.</summary>
    private List<double> ConnectRatio(ServerKind server, Func<ClusterConnect, double>? value = null)
    {
        value ??= c => c.Rate.PerSecond;
        var list = results.ClusterConnect.Where(c => c.Rate.Server == server).ToList();
        return [.. list.Where(i => i.Setup == ClusterSetup.Redis).Join(list.Where(i => i.Setup == ClusterSetup.Memory), a => a.Round, b => b.Round, (a, b) => value(a) / value(b))];
    }

    private void RatioHeader()
    {
        Line("| ratio (within each round) | median | 95% interval | worst round | range | goal | verdict |");
        Line("|---|---|---|---|---|---|---|");
    }

    private void SpreadRatio(string name, List<double> values, string comparison, double goal)
    {
        if (values.Count == 0)
        {
            Line($"| {name} | n/a | | | | {comparison} {goal.ToString(Invariant)} | not measured |");
            return;
        }

        var higherIsBetter = comparison == ">=";
        var interval = MedianInterval.Of(values);
        var worst = higherIsBetter ? values.Min() : values.Max();
        var verdict = name.Contains("not a target", StringComparison.Ordinal) ? "" : Describe(interval.Judge(goal, higherIsBetter), interval.Rounds);
        Line($"| {name} | {interval.Median.ToString("F3", Invariant)} | {Span(interval, "F3")} | {worst.ToString("F3", Invariant)} | {values.Min().ToString("F3", Invariant)}-{values.Max().ToString("F3", Invariant)} | {comparison} {goal.ToString(Invariant)} | {verdict} |");
    }

    private static string Span(MedianInterval interval, string format) =>
        interval.Rounds < MedianInterval.MinimumRounds ? "" : $"{interval.Low.ToString(format, Invariant)} - {interval.High.ToString(format, Invariant)}";

    private static string Describe(Verdict verdict, int rounds) => verdict switch
    {
        Verdict.Met => "met",
        Verdict.Missed => "**missed**",
        _ when rounds < MedianInterval.MinimumRounds => $"undecided ({rounds} round{(rounds == 1 ? "" : "s")})",
        _ => "undecided",
    };

    private string Capture(Action write)
    {
        var before = _md.Length;
        write();
        var text = _md.ToString(before, _md.Length - before);
        _md.Length = before;
        return text;
    }

    /// <summary>
    /// Replaces the sections of <paramref name="existing"/> whose headings start like those of <paramref name="sections"/>
    /// (<c>## 7. </c>, <c>## 8. </c>), or inserts them before the machine section.
    /// </summary>
    private static string Splice(string existing, IEnumerable<string> sections)
    {
        var blocks = new List<string>();
        var current = new StringBuilder();
        foreach (var line in existing.Split('\n'))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal) && current.Length > 0)
            {
                blocks.Add(current.ToString());
                current.Clear();
            }

            current.Append(line).Append('\n');
        }

        // Split leaves one line more than there were line ends: the last one gets none back.
        blocks.Add(current.ToString(0, current.Length - 1));
        foreach (var section in sections.Where(s => s.Length > 0))
        {
            var prefix = section[..section.IndexOf(". ", StringComparison.Ordinal)];
            var at = blocks.FindIndex(b => b.StartsWith(prefix + ". ", StringComparison.Ordinal));
            if (at >= 0)
            {
                blocks[at] = section;
                continue;
            }

            var machineAt = blocks.FindIndex(b => b.StartsWith(MachineHeading, StringComparison.Ordinal));
            blocks.Insert(machineAt >= 0 ? machineAt : blocks.Count, section);
        }

        return string.Concat(blocks);
    }

    private static MemoryPoint Point(IdleMemory memory, int connections) =>
        memory.Points.FirstOrDefault(p => p.Connections == connections) ?? memory.Points[^1];

    private static IEnumerable<IGrouping<ServerKind, T>> ByServer<T>(IEnumerable<T> items, Func<T, ServerKind> server) =>
        items.GroupBy(server).OrderBy(g => g.Key);

    private static double Med<T>(IEnumerable<T> items, Func<T, double> value) => ComparisonRunner.Median(items.Select(value));

    /// <summary>Per round, <paramref name="combine"/>(value of x, value of y); ratio by default.</summary>
    private static List<double> Per<T>(IEnumerable<T> items, ServerKind x, ServerKind y, Func<T, double> value, Func<double, double, double>? combine = null)
        where T : IMeasured
    {
        var list = items.ToList();
        combine ??= (a, b) => a / b;
        return [.. list.Where(i => i.Server == x)
            .Join(list.Where(i => i.Server == y), a => a.Round, b => b.Round, (a, b) => combine(value(a), value(b)))];
    }

    private void Ratio(string name, List<double> values, string comparison, double goal, string format = "F3")
    {
        if (values.Count == 0)
        {
            Line($"| {name} | n/a | | | 0 | {comparison} {goal.ToString(Invariant)} | not measured |");
            return;
        }

        var higherIsBetter = comparison == ">=";
        var interval = MedianInterval.Of(values);
        var worst = higherIsBetter ? values.Min() : values.Max();
        var verdict = name.Contains("not a target", StringComparison.Ordinal) ? "" : Describe(interval.Judge(goal, higherIsBetter), interval.Rounds);
        Line($"| {name} | {interval.Median.ToString(format, Invariant)} | {Span(interval, format)} | {worst.ToString(format, Invariant)} | {interval.Rounds} | {comparison} {goal.ToString(Invariant)} | {verdict} |");
    }

    private void Ratios(string name, List<double> values)
    {
        if (values.Count > 0)
        {
            Line($"{name}: median {ComparisonRunner.Median(values):F3}, range {values.Min():F3}-{values.Max():F3}.");
            Line();
        }
    }

    private void Line(string text = "") => _md.Append(text).Append('\n');
}
