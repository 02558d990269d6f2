using System.Diagnostics;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// Scenario 4: concurrent connectors, each looping connect, handshake, authenticate (G, N: Authenticate with a
/// pre-minted ticket; B: the token rides on the upgrade; A: handshake only; C: the upgrade only), then a clean
/// WebSocket close. The time to ready is from the start of the TCP connect to the last reply needed; the
/// Authenticate time from sending Authenticate to its completion (G, N).
/// </summary>
internal static class ConnectScenario
{
    public static async Task<ConnectRate> RunAsync(BenchTarget target, Dialer dialer, int connectors, int warmUp, int count, TimeSpan limit, int round)
    {
        await target.PrepareAsync(warmUp + count + connectors, CancellationToken.None);
        if (target.Stats is { } stats)
        {
            await stats.WaitUntilIdleAsync(TimeSpan.FromSeconds(15));
        }

        await LoopAsync(target, dialer, connectors, warmUp, limit, recorder: null);
        var recorder = new Recorder(target.Stats);
        recorder.Start();
        var authenticate = new Histogram();
        var failures = await LoopAsync(target, dialer, connectors, count, limit, recorder, authenticate);
        recorder.Stop();
        return new ConnectRate(target.Kind, round, recorder.Count / recorder.Seconds, recorder.CpuMicrosecondsPerMessage,
            Percentiles.Of(recorder.Latency), failures, Percentiles.Of(authenticate));
    }

    private static async Task<long> LoopAsync(BenchTarget target, Dialer dialer, int connectors, int count, TimeSpan limit, Recorder? recorder, Histogram? authenticate = null)
    {
        var started = 0;
        long failures = 0;
        var deadline = Stopwatch.GetTimestamp() + EchoScenario.Ticks(limit);
        await Task.WhenAll(Enumerable.Range(0, connectors).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref started) <= count && Stopwatch.GetTimestamp() < deadline && Interlocked.Read(ref failures) < 100)
            {
                var begin = Stopwatch.GetTimestamp();
                HubLink link;
                try
                {
                    link = await target.OpenAsync(dialer, 0, authenticateTime: authenticate);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                recorder?.RecordClosedLoop(begin, Stopwatch.GetTimestamp(), error: false);
                await link.CloseAsync(TimeSpan.FromSeconds(5));
                link.Dispose();
            }
        })));
        return failures;
    }
}
