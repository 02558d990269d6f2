using System.Diagnostics;
using System.Globalization;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// The attacker of scenario 6, in a process of its own (<c>SignalRSecure.Bench flood-client</c>): it opens
/// connections that do the handshake and never authenticate, and waits for the server to close them. A separate
/// process, like a real attacker, so that its own garbage collections and connect work do not show up as the
/// victims' latency, which the main process measures.
/// </summary>
/// <remarks>
/// Protocol on standard output: <c>open OPENED REFUSED FIRST_OPENED_AT</c> once every attempt is done, then one
/// <c>closed</c> when the server has closed them all (or it gave up), one <c>link OPENED_AT CLOSED_AT</c> per connection (<see cref="Stopwatch"/> timestamps, which are the system's
/// monotonic clock and so comparable between processes here; 0 = never closed) and <c>done</c>.
/// </remarks>
internal static class FloodClient
{
    public static async Task<int> RunAsync(Uri baseAddress, int count, int connectors, TimeSpan giveUpAfterOpen, TextWriter output)
    {
        using var dialer = new Dialer();
        using var target = new BenchTarget(ServerKind.G, baseAddress, ServerLauncher.IssuerKey, ServerLauncher.TokenKey, null, null);
        var links = new HubLink?[count];
        var refused = 0;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, connectors).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    var link = await target.OpenAsync(dialer, 100_000 + i, authenticate: false);
                    link.StartPump((_, _, _) => { });
                    links[i] = link;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        })));

        var opened = links.Where(l => l is not null).Select(l => l!).ToArray();
        var firstOpenedAt = opened.Length == 0 ? Stopwatch.GetTimestamp() : opened.Min(l => l.OpenedAt);
        await output.WriteLineAsync(FormattableString.Invariant($"open {opened.Length} {refused} {firstOpenedAt}"));
        await output.FlushAsync();

        var giveUpAt = Stopwatch.GetTimestamp() + EchoScenario.Ticks(giveUpAfterOpen);
        while (opened.Any(l => l.ClosedAt == 0) && Stopwatch.GetTimestamp() < giveUpAt)
        {
            await Task.Delay(50);
        }

        await output.WriteLineAsync("closed");
        await output.FlushAsync();
        foreach (var link in opened)
        {
            await output.WriteLineAsync(FormattableString.Invariant($"link {link.OpenedAt} {link.ClosedAt}"));
            link.Dispose();
        }

        await output.WriteLineAsync("done");
        return 0;
    }

    /// <summary>Starts the attacker process: this same program, on the load generator's core (inherited), niced.</summary>
    public static Process Start(Uri baseAddress, int count, TimeSpan giveUpAfterOpen)
    {
        // Lowest priority: it shares the load generator's core, and the victims' client must not wait for the
        // attacker's turn on it (on separate machines it would not).
        var start = new ProcessStartInfo("nice")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-n", "19", Environment.ProcessPath ?? "dotnet", typeof(FloodClient).Assembly.Location, "flood-client", "--url", baseAddress.ToString(),
            "--count", count.ToString(CultureInfo.InvariantCulture),
            "--give-up-seconds", giveUpAfterOpen.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the flood client");
    }
}
