using System.Diagnostics;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>Scenarios 1 and 2: Echo of a 32-character text over many connections.</summary>
internal static class EchoScenario
{
    /// <summary>Closed loop: each connection keeps one Echo outstanding; throughput is what the server completes.</summary>
    public static async Task<EchoThroughput> ThroughputAsync(BenchTarget target, Dialer dialer, int connections, TimeSpan warmUp, TimeSpan measure, int round)
    {
        await target.PrepareAsync(connections, CancellationToken.None);
        var links = await target.OpenManyAsync(dialer, connections);
        var recorder = new Recorder(target.Stats);
        var stopping = false;
        var raw = !target.Kind.SpeaksSignalR();
        try
        {
            var loops = links.Select(link => Task.Run(async () =>
            {
                link.Frame = Frames.Echo(target.Protocol);
                while (!Volatile.Read(ref stopping))
                {
                    var sentAt = Stopwatch.GetTimestamp();
                    await link.SendStampedAsync(sentAt);
                    while (true)
                    {
                        var record = await link.ReadRecordAsync();
                        if (raw || Frames.TypeOf(record.Span) == 3)
                        {
                            recorder.RecordClosedLoop(sentAt, Stopwatch.GetTimestamp(), !raw && Frames.HasError(record.Span));
                            break;
                        }
                    }
                }
            })).ToList();

            await Task.Delay(warmUp);
            recorder.Start();
            await Task.Delay(measure);
            recorder.Stop();
            Volatile.Write(ref stopping, true);
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            DisposeAll(links);
        }

        return new EchoThroughput(target.Kind, round, recorder.Count / recorder.Seconds, recorder.CpuMicrosecondsPerMessage, recorder.ServerCores,
            Percentiles.Of(recorder.Latency), recorder.Errors);
    }

    /// <summary>Open loop at <paramref name="rate"/> Echo calls per second in all, latency from the intended send time.</summary>
    public static async Task<EchoLatency> LatencyAsync(BenchTarget target, Dialer dialer, int connections, double rate, TimeSpan warmUp, TimeSpan measure, int round)
    {
        await target.PrepareAsync(connections, CancellationToken.None);
        var links = await target.OpenManyAsync(dialer, connections);
        var recorder = new Recorder(target.Stats);
        var raw = !target.Kind.SpeaksSignalR();
        try
        {
            foreach (var link in links)
            {
                link.Frame = Frames.Echo(target.Protocol);
                link.StartPump((_, record, now) =>
                {
                    if (raw || Frames.TypeOf(record) == 3)
                    {
                        var intended = Frames.ReadStamp(record);
                        recorder.RecordOpenLoop(intended, now, intended < 0 || (!raw && Frames.HasError(record)));
                    }
                });
            }

            var scheduler = new OpenLoopScheduler(links, rate);
            var start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20);
            var measureFrom = start + Ticks(warmUp);
            var end = measureFrom + Ticks(measure);
            var sending = scheduler.RunAsync(start, end);
            await Task.Delay(TimeSpan.FromTicks(TimeSpan.TicksPerSecond * (measureFrom - Stopwatch.GetTimestamp()) / Stopwatch.Frequency));
            recorder.Start();
            await sending;
            recorder.Stop();

            // Replies still on their way: wait until they stop coming (at most 5 s); the ones that never come are missing.
            var expected = (long)Math.Round(recorder.Seconds * rate);
            var drainUntil = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 5);
            long seen;
            do
            {
                seen = recorder.Count + recorder.Errors;
                await Task.Delay(200);
            }
            while (recorder.Count + recorder.Errors != seen && seen < expected && Stopwatch.GetTimestamp() < drainUntil);

            var seconds = recorder.Seconds;
            return new EchoLatency(target.Kind, round, rate, recorder.Count / seconds,
                recorder.Count == 0 ? 0 : recorder.ServerCpuNanoseconds / 1000.0 / recorder.Count,
                Percentiles.Of(recorder.Latency), Math.Max(0, expected - recorder.Count), recorder.Latency);
        }
        finally
        {
            DisposeAll(links);
        }
    }

    public static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static void DisposeAll(IEnumerable<HubLink> links)
    {
        foreach (var link in links)
        {
            link.Dispose();
        }
    }
}
