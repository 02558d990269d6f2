using System.Diagnostics;
using System.Globalization;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// Scenario 6: authenticated victims echo on an open-loop schedule while a flood of connections that do the
/// handshake and never authenticate is opened as fast as 64 connectors go, from a separate attacker process
/// (<see cref="FloodClient"/>). Measures when each flood connection
/// is closed against its deadline, the victims' latency before, during and between, and memory before and after.
/// </summary>
internal static class FloodScenario
{
    private static readonly long Bucket = Stopwatch.Frequency / 4;

    public static async Task<Flood> RunAsync(
        BenchTarget target, Dialer dialer, int victims, double perVictimRate, int floodCount, TimeSpan deadline, TimeSpan baseline, TimeSpan settle, int round)
    {
        var stats = target.Stats ?? throw new InvalidOperationException("the flood needs a server process");
        var probe = target.Probe ?? throw new InvalidOperationException("the flood needs a probe");
        await target.PrepareAsync(victims, CancellationToken.None);
        var victimLinks = await target.OpenManyAsync(dialer, victims);
        var floodLinks = new List<(long OpenedAt, long ClosedAt)>(floodCount);
        var timeline = new long[4096];
        var t0 = Stopwatch.GetTimestamp();
        var baselineRecorder = new Recorder(null);
        var duringRecorder = new Recorder(null);
        var quietRecorder = new Recorder(null);
        try
        {
            foreach (var link in victimLinks)
            {
                link.Frame = Frames.Echo();
                link.StartPump((_, record, now) =>
                {
                    if (Frames.TypeOf(record) != 3)
                    {
                        return;
                    }

                    var intended = Frames.ReadStamp(record);
                    var error = intended < 0 || Frames.HasError(record);
                    baselineRecorder.RecordOpenLoop(intended, now, error);
                    duringRecorder.RecordOpenLoop(intended, now, error);
                    quietRecorder.RecordOpenLoop(intended, now, error);
                    var slot = (int)Math.Min(timeline.Length - 1, Math.Max(0, (intended - t0) / Bucket));
                    var latency = now - intended;
                    long seen;
                    while (latency > (seen = Volatile.Read(ref timeline[slot])) && Interlocked.CompareExchange(ref timeline[slot], latency, seen) != seen)
                    {
                    }
                });
            }

            await Task.Delay(500);
            var heapBefore = await probe.CollectAsync();
            var before = new MemoryPoint(victims, stats.ResidentBytes(), heapBefore.HeapBytes, heapBefore.PinnedObjectBytes);

            // The victims' schedule covers the whole scenario; its length is bounded by the deadline.
            var scheduler = new OpenLoopScheduler(victimLinks, victims * perVictimRate);
            var scheduleEnd = Stopwatch.GetTimestamp() + EchoScenario.Ticks(baseline + deadline + deadline + TimeSpan.FromSeconds(30));
            var sending = scheduler.RunAsync(Stopwatch.GetTimestamp(), scheduleEnd);
            await Task.Delay(1000);
            var countersBaseline = await probe.CountersAsync();
            var baselineStart = Stopwatch.GetTimestamp();
            baselineRecorder.Start();
            await Task.Delay(baseline);
            baselineRecorder.Stop();

            var countersBefore = await probe.CountersAsync();
            var victimsAlone = countersBaseline is null || countersBefore is null ? null : countersBefore.Minus(countersBaseline);
            var victimsSeconds = (Stopwatch.GetTimestamp() - baselineStart) / (double)Stopwatch.Frequency;
            duringRecorder.Start();
            var floodStart = Stopwatch.GetTimestamp();
            using var attacker = FloodClient.Start(target.BaseAddress, floodCount, deadline + TimeSpan.FromSeconds(10));
            var opened = (await attacker.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the flood client failed")).Split(' ');
            var allOpen = Stopwatch.GetTimestamp();
            var open = int.Parse(opened[1], CultureInfo.InvariantCulture);
            var refused = int.Parse(opened[2], CultureInfo.InvariantCulture);
            var firstOpenedAt = long.Parse(opened[3], CultureInfo.InvariantCulture);

            // Quiet: every flood connection is open and idle, none has reached its deadline yet.
            var firstDeadline = (open > 0 ? firstOpenedAt : allOpen) + EchoScenario.Ticks(deadline);
            quietRecorder.Start();
            var quietFor = TimeSpan.FromSeconds(Math.Max(0, (firstDeadline - Stopwatch.GetTimestamp() - (Stopwatch.Frequency / 2)) / (double)Stopwatch.Frequency));
            await Task.Delay(quietFor);
            quietRecorder.Stop();

            // The attacker says when all are closed (or it gave up on them), then reports each connection.
            string? line;
            while ((line = await attacker.StandardOutput.ReadLineAsync()) is not null and not "closed")
            {
            }

            duringRecorder.Stop();
            var countersDuring = countersBefore is null ? null : (await probe.CountersAsync())?.Minus(countersBefore);
            var duringSeconds = (Stopwatch.GetTimestamp() - floodStart) / (double)Stopwatch.Frequency;
            while ((line = await attacker.StandardOutput.ReadLineAsync()) is not null and not "done")
            {
                var parts = line.Split(' ');
                floodLinks.Add((long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture)));
            }

            await attacker.WaitForExitAsync();
            scheduler.Stop();
            await sending;
            await Task.Delay(1000);

            var lateness = new Histogram();
            var closedInTime = 0;
            var maxLateness = 0.0;
            foreach (var link in floodLinks)
            {
                var closedAt = link.ClosedAt == 0 ? Stopwatch.GetTimestamp() : link.ClosedAt;
                var late = (closedAt - link.OpenedAt - EchoScenario.Ticks(deadline)) * 1000.0 / Stopwatch.Frequency;
                maxLateness = Math.Max(maxLateness, late);
                lateness.Record((long)(Math.Max(0, late) * 1_000_000));
                if (link.ClosedAt != 0 && late <= 1000)
                {
                    closedInTime++;
                }
            }

            await Task.Delay(2000);
            var heapAfter = await probe.CollectAsync();
            var after = new MemoryPoint(victims, stats.ResidentBytes(), heapAfter.HeapBytes, heapAfter.PinnedObjectBytes);

            // Kestrel's memory pool gives back the blocks a burst left behind over some seconds: look again later.
            await Task.Delay(settle);
            var heapSettled = await probe.CollectAsync();
            var settled = new MemoryPoint(victims, stats.ResidentBytes(), heapSettled.HeapBytes, heapSettled.PinnedObjectBytes);
            var lastSlot = (int)Math.Min(timeline.Length - 1, (Stopwatch.GetTimestamp() - t0) / Bucket);
            var curve = new List<(double, double, int)>();
            for (var slot = 0; slot <= lastSlot; slot++)
            {
                if (timeline[slot] > 0)
                {
                    var at = t0 + (slot * Bucket);
                    var openThen = floodLinks.Count(l => l.OpenedAt <= at && (l.ClosedAt == 0 || l.ClosedAt > at));
                    curve.Add((slot * 0.25, timeline[slot] * 1000.0 / Stopwatch.Frequency, openThen));
                }
            }

            return new Flood(round, floodCount, open, refused, deadline, closedInTime, maxLateness, lateness.Percentile(99) / 1e6,
                (allOpen - (open > 0 ? firstOpenedAt : floodStart)) / (double)Stopwatch.Frequency,
                Percentiles.Of(baselineRecorder.Latency), Percentiles.Of(duringRecorder.Latency), Percentiles.Of(quietRecorder.Latency),
                baselineRecorder.Errors + duringRecorder.Errors, before, after, settled, settle, curve)
            {
                DuringRuntime = countersDuring,
                FloodAllocatedBytes = countersDuring is null || victimsAlone is null ? null
                    : countersDuring.AllocatedBytes - (victimsAlone.AllocatedBytes / victimsSeconds * duringSeconds),
            };
        }
        finally
        {
            EchoScenario.DisposeAll(victimLinks);
        }
    }
}
