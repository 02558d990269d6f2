using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// Scenario 5: idle authenticated connections, added in steps; after each step the server's RSS (from /proc) and
/// its heap after a full collection (from its probe). Tickets are minted per step, so none sit in the store when
/// a point is taken.
/// </summary>
internal static class MemoryScenario
{
    public static async Task<IdleMemory> RunAsync(BenchTarget target, Dialer dialer, IReadOnlyList<int> steps, int round)
    {
        var stats = target.Stats ?? throw new InvalidOperationException("memory needs a server process");
        var probe = target.Probe ?? throw new InvalidOperationException("memory needs a probe");

        // Warm up: the code paths of connecting, authenticating and closing are compiled before the baseline.
        await target.PrepareAsync(500, CancellationToken.None);
        EchoScenario.DisposeAll(await target.OpenManyAsync(dialer, 500));
        await Task.Delay(1000);

        var links = new List<HubLink>();
        var points = new List<MemoryPoint>();
        var serverGc = false;
        try
        {
            foreach (var step in steps.Prepend(0))
            {
                var count = step - links.Count;
                if (count > 0)
                {
                    await target.PrepareAsync(count, CancellationToken.None);
                    links.AddRange(await target.OpenManyAsync(dialer, count, links.Count));
                }

                await Task.Delay(1000);
                var heap = await probe.CollectAsync();
                serverGc = heap.ServerGc;
                points.Add(new MemoryPoint(links.Count, stats.ResidentBytes(), heap.HeapBytes));
            }
        }
        finally
        {
            EchoScenario.DisposeAll(links);
        }

        return new IdleMemory(target.Kind, round, points, serverGc);
    }
}
