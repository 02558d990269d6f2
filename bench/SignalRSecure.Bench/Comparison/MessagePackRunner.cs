using System.Net.WebSockets;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Comparison;

/// <summary>
/// Echo and broadcast over SignalR's MessagePack protocol, G against A, in interleaved rounds on fresh servers. A has
/// <c>AddMessagePackProtocol()</c>; G is started with <see cref="ProtocolsVariable"/> = <c>json,messagepack</c>. A
/// server that refuses the MessagePack handshake (or Authenticate over it) is skipped with what it answered, so that a
/// build without the option reports that instead of failing.
/// </summary>
internal sealed class MessagePackRunner(ServerLauncher launcher, BenchProfile profile, IReadOnlyList<ServerKind> servers, Action<string> log)
{
    public const string ProtocolsVariable = "SignalRSecure__Hub__Protocols";
    public const string Protocols = "json,messagepack";

    private static readonly ServerKind[][] Orders = [[ServerKind.A, ServerKind.G], [ServerKind.G, ServerKind.A]];

    public async Task RunAsync(ComparisonResults results, Dialer dialer)
    {
        var receivers = profile.BroadcastReceivers[0];
        for (var round = 1; round <= profile.Rounds; round++)
        {
            foreach (var kind in Orders[(round - 1) % Orders.Length].Where(servers.Contains))
            {
                if (results.MessagePackRefused.ContainsKey(kind))
                {
                    continue;
                }

                var echo = await WithServerAsync(kind, results, dialer, target =>
                    EchoScenario.ThroughputAsync(target, dialer, profile.EchoConnections, profile.EchoWarmUp, profile.EchoMeasure, round));
                if (echo is null)
                {
                    continue;
                }

                results.MessagePackEcho.Add(echo);
                log($"msgpack   {kind} round {round}: echo {echo.PerSecond,9:F0}/s  cpu {echo.CpuMicroseconds:F2} us/call  p99 {echo.Latency.P99:F0} us  errors {echo.Errors}");

                var fanOut = await WithServerAsync(kind, results, dialer, async target =>
                {
                    using var scenario = new FanOutScenario(target, dialer);
                    await scenario.GrowForBroadcastAsync(receivers);
                    return await scenario.RunAsync($"broadcast 1 -> {receivers:N0}", profile.FanOutWarmUp, profile.FanOutMeasure, round);
                });
                if (fanOut is not null)
                {
                    results.MessagePackFanOut.Add(fanOut);
                    log($"msgpack   {kind} round {round}: {fanOut.Shape}: {fanOut.DeliveredPerSecond,9:F0}/s  cpu {fanOut.CpuMicroseconds:F2} us/delivery  p50 {fanOut.Latency.P50 / 1000:F1} ms  p99 {fanOut.Latency.P99 / 1000:F1} ms  stalls {fanOut.Stalls}");
                }
            }
        }
    }

    private async Task<T?> WithServerAsync<T>(ServerKind kind, ComparisonResults results, Dialer dialer, Func<BenchTarget, Task<T>> run)
        where T : class
    {
        var environment = kind == ServerKind.G ? new Dictionary<string, string> { [ProtocolsVariable] = Protocols } : null;
        using var server = await launcher.StartAsync(kind, environment: environment);
        using var target = server.CreateTarget(protocol: HubProtocol.MessagePack);
        var refusal = await RefusalAsync(target, dialer);
        if (refusal is not null)
        {
            results.MessagePackRefused[kind] = refusal;
            log($"msgpack   {kind} refuses MessagePack, skipped: {refusal}");
            return null;
        }

        try
        {
            return await run(target);
        }
        catch (Exception ex)
        {
            log($"msgpack {kind} failed: {ex}");
            log($"server log tail: {string.Join('\n', File.ReadLines(server.LogFile).TakeLast(20))}");
            throw;
        }
    }

    /// <summary>Opens one connection over MessagePack (handshake, and Authenticate where the server gates): null if it works, else what went wrong.</summary>
    private static async Task<string?> RefusalAsync(BenchTarget target, Dialer dialer)
    {
        await target.PrepareAsync(1, CancellationToken.None);
        try
        {
            using var link = await target.OpenAsync(dialer, 0).WaitAsync(TimeSpan.FromSeconds(10));
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or LinkClosedException or TimeoutException or WebSocketException)
        {
            // What the server answered, printable and short: it goes into the report.
            var text = new string([.. ex.Message.Select(c => char.IsControl(c) ? ' ' : c)]);
            return text.Length > 200 ? text[..200] + "..." : text;
        }
    }
}
