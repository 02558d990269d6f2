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
/// </summary>
internal sealed class Report(ComparisonResults results, BenchProfile profile, MachineInfo machine)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly StringBuilder _md = new();

    public async Task<IReadOnlyList<string>> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
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
             "Ratios are computed within each round and summarised as the median and the worst round.");
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
        Line("| target | median | worst round | goal | met? |");
        Line("|---|---|---|---|---|");
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

        var memoryDiff = Per(results.Memory, ServerKind.G, ServerKind.A, m => m.Slope.Resident / 1024, (g, a) => g - a);
        Ratio("Memory per idle connection, G minus A (RSS slope, KB)", memoryDiff, "<=", 0.5, "F2");
        Ratio("Memory per idle connection, G minus A (heap slope, KB)", Per(results.Memory, ServerKind.G, ServerKind.A, m => m.Slope.Heap / 1024, (g, a) => g - a), "<=", 0.5, "F2");
        Ratio("Memory per idle connection, G (RSS slope, KB)", results.Memory.Where(m => m.Server == ServerKind.G).Select(m => m.Slope.Resident / 1024).ToList(), "<=", 20, "F1");
        Ratio("Memory per idle connection, G (heap slope, KB)", results.Memory.Where(m => m.Server == ServerKind.G).Select(m => m.Slope.Heap / 1024).ToList(), "<=", 20, "F1");

        if (results.Flood.Count > 0)
        {
            var first = results.Flood[0];
            var allClosed = results.Flood.All(f => f.ClosedInTime == f.Opened && f.Refused == 0);
            Line($"| Flood: unauthenticated connections closed by deadline + 1 s | {string.Join(", ", results.Flood.Select(f => $"{f.ClosedInTime:N0}/{f.Connections:N0}, latest +{f.MaxLatenessMs:F0} ms"))} | | all | {(allClosed ? "yes" : "**no**")} |");
            Ratio("Flood: victims' p99 during / baseline", results.Flood.Select(f => f.During.P99 / f.Baseline.P99).ToList(), "<=", 1.5);
            Ratio("Flood: victims' p99 while the flood is open and idle / baseline (not a target)", results.Flood.Select(f => f.Quiet.P99 / f.Baseline.P99).ToList(), "<=", 1.5);
            Ratio($"Flood: heap {first.SettleTime.TotalSeconds:F0} s after the flood minus before (MB)", results.Flood.Select(f => (f.Settled.HeapBytes - f.Before.HeapBytes) / 1048576.0).ToList(), "<=", 1, "F1");
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
        Line($"## 3. Fan-out (closed-loop sender, at most {FanOutScenario.Window} messages ahead of its receivers; latency per recipient from the send)");
        Line();
        Line("| shape | server | delivered/s | server CPU us/delivery | p50 ms | p99 ms |");
        Line("|---|---|---|---|---|---|");
        foreach (var shape in results.FanOut.GroupBy(f => f.Shape))
        {
            foreach (var group in ByServer(shape, f => f.Server))
            {
                Line($"| {shape.Key} | {group.Key} | {Med(group, f => f.DeliveredPerSecond):N0} | {Med(group, f => f.CpuMicroseconds):F2} | {Med(group, f => f.Latency.P50) / 1000:F1} | {Med(group, f => f.Latency.P99) / 1000:F1} |");
            }
        }

        Line();
        Line("C has no groups. The load generator has one core for all receivers; the server CPU per delivery is the figure that does not depend on it.");
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
        Line("| round | opened in s | closed by deadline + 1 s | latest close after deadline | p99 close after deadline | victims p99 baseline us | during us | quiet us | victim errors | heap before / +2 s / later MB | RSS before / +2 s / later MB |");
        Line("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var flood in results.Flood)
        {
            Line($"| {flood.Round} | {flood.OpenSeconds:F2} | {flood.ClosedInTime:N0}/{flood.Opened:N0} (refused {flood.Refused}) | {flood.MaxLatenessMs:F0} ms | {flood.P99LatenessMs:F0} ms | {flood.Baseline.P99:F0} | {flood.During.P99:F0} | {flood.Quiet.P99:F0} | {flood.VictimErrors} | " +
                 $"{flood.Before.HeapBytes / 1048576.0:F1} / {flood.After.HeapBytes / 1048576.0:F1} / {flood.Settled.HeapBytes / 1048576.0:F1} | {flood.Before.ResidentBytes / 1048576.0:F0} / {flood.After.ResidentBytes / 1048576.0:F0} / {flood.Settled.ResidentBytes / 1048576.0:F0} |");
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
        Line($"- .NET SDK {machine.DotnetSdk} ({machine.DotnetRuntime}); Node {machine.Node} with ws {machine.Ws}");
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

        Line("- G ships with quick JIT off (`TieredCompilationQuickJit=false` in its runtimeconfig; see the README): its own code is not ReadyToRun-compiled like the framework's and would otherwise run at tier 0 for longer than a measurement. A, B and C run with the runtime's defaults.");
        Line("- N gets the same limits: " + string.Join(", ", ServerLauncher.NodeOverrides(profile.FloodDeadline).Select(kv => $"`{kv.Key}={kv.Value}`")) + ".");
        Line("- B validates HS256 JWTs with an `AuthenticationHandler` written for the bench (signature, exp/nbf with 5 min skew, issuer, audience; `sub` as the user id): `Microsoft.AspNetCore.Authentication.JwtBearer` does not restore from this machine's package source (its `Microsoft.IdentityModel.Protocols.OpenIdConnect` >= 8.19.2 dependency is missing).");
        Line();
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
            Line($"| {name} | n/a | | {comparison} {goal.ToString(Invariant)} | not measured |");
            return;
        }

        var higherIsBetter = comparison == ">=";
        var median = ComparisonRunner.Median(values);
        var worst = higherIsBetter ? values.Min() : values.Max();
        var met = higherIsBetter ? median >= goal : median <= goal;
        var worstMet = higherIsBetter ? worst >= goal : worst <= goal;
        Line($"| {name} | {median.ToString(format, Invariant)} | {worst.ToString(format, Invariant)} | {comparison} {goal.ToString(Invariant)} | {(met ? worstMet ? "yes" : "yes (median)" : "**no**")} |");
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
