using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Floods of connections that never authenticate, with the default per-IP caps, while an authenticated client on
/// another loopback address keeps echoing. 300 connections by default; SIGNALRSECURE_ATTACK_SCALE=full runs 2,000.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class FloodTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task UnauthenticatedFlood_FromOneIp_IsCappedAndClosedByTheDeadline_WhileAnotherIpKeepsEchoing()
    {
        var attempts = Environment.GetEnvironmentVariable("SIGNALRSECURE_ATTACK_SCALE") == "full" ? 2_000 : 300;
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:AuthenticationTimeout"] = Deadline.ToString(),
        });
        await using var probe = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, from: LoopbackAddress.Second);
        await probe.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice, from: LoopbackAddress.Second));
        var baseline = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            baseline.Add(await TimeEchoAsync(probe));
        }

        var memoryBefore = SettledMemory();

        using var stopProbe = new CancellationTokenSource();
        var duringFlood = ProbeUntilAsync(probe, stopProbe.Token);
        var outcomes = await FloodAsync(server, attempts, parallelism: 50);
        await stopProbe.CancelAsync();
        var floodLatencies = await duringFlood;
        var memoryAfter = SettledMemory();
        var admitted = outcomes.Where(o => o.Status == HttpStatusCode.SwitchingProtocols).ToList();
        var slowestClose = admitted.Max(o => o.OpenFor);
        output.WriteLine($"{attempts} attempts: {admitted.Count} admitted, {outcomes.Count(o => o.Status == HttpStatusCode.TooManyRequests)} refused with 429; " +
            $"slowest close {slowestClose.TotalMilliseconds:F0} ms after its connect; probe p99 {Percentile(baseline, 0.99):F1} ms before, " +
            $"{Percentile(floodLatencies, 0.99):F1} ms during ({floodLatencies.Count} echoes); managed memory {memoryBefore / 1024} KB -> {memoryAfter / 1024} KB");

        Assert.Equal(ProtectionOptions.DefaultMaxUnauthenticatedConnectionsPerIp, admitted.Count);
        Assert.Equal(attempts - admitted.Count, outcomes.Count(o => o.Status == HttpStatusCode.TooManyRequests));
        Assert.All(admitted, o => Assert.Equal(CloseReasons.AuthenticationTimeout, o.CloseReason));
        Assert.InRange(slowestClose, Deadline - TimeSpan.FromMilliseconds(100), Deadline + TimeSpan.FromSeconds(1));
        Assert.NotEmpty(floodLatencies);
        Assert.All(floodLatencies, latency => Assert.True(latency < 1_000, $"an echo took {latency} ms"));
        Assert.InRange(memoryAfter - memoryBefore, long.MinValue, 16L * 1024 * 1024);
    }

    /// <summary>Opens <paramref name="attempts"/> connections that never authenticate; each admitted one is read until it closes.</summary>
    private static async Task<List<(HttpStatusCode Status, string? CloseReason, TimeSpan OpenFor)>> FloodAsync(SecureServer server, int attempts, int parallelism)
    {
        var results = new ConcurrentBag<(HttpStatusCode, string?, TimeSpan)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, attempts), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (_, _) =>
        {
            var clock = Stopwatch.StartNew();
            RawHubSocket socket;
            try
            {
                socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                results.Add((HttpStatusCode.TooManyRequests, null, TimeSpan.Zero));
                return;
            }

            await using (socket)
            {
                var close = await socket.ReceiveCloseAsync();
                results.Add((HttpStatusCode.SwitchingProtocols, close.Error, clock.Elapsed));
            }
        });
        return [.. results];
    }

    private static async Task<List<double>> ProbeUntilAsync(RawHubSocket probe, CancellationToken stop)
    {
        var latencies = new List<double>();
        using var pacing = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await pacing.WaitForNextTickAsync(stop))
            {
                latencies.Add(await TimeEchoAsync(probe));
            }
        }
        catch (OperationCanceledException)
        {
        }

        return latencies;
    }

    private static async Task<double> TimeEchoAsync(RawHubSocket probe)
    {
        var clock = Stopwatch.StartNew();
        var (echo, error) = await probe.CallAsync(nameof(IChatHub.Echo), "probe");
        Assert.Null(error);
        Assert.Equal("probe", echo!.Value.GetString());
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Percentile(List<double> values, double p) =>
        values.Count == 0 ? double.NaN : values.Order().ElementAt(Math.Min(values.Count - 1, (int)(p * values.Count)));

    private static long SettledMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
