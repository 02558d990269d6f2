using System.Diagnostics;
using System.Globalization;
using System.Text;
using SignalRSecure.Bench.Comparison;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Reporting;

/// <summary>Writes the plot data and a gnuplot script next to the report, and runs gnuplot when it is installed.</summary>
internal static class Plots
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static async Task<IReadOnlyList<string>> WriteAsync(ComparisonResults results, string directory, string data)
    {
        var script = new StringBuilder();
        script.Append("set terminal pngcairo size 1000,600 font 'sans,11'\nset grid\nset key top left\n");

        var latencyLines = new List<string>();
        foreach (var group in results.Latency.GroupBy(l => l.Server).OrderBy(g => g.Key))
        {
            var merged = new Histogram();
            foreach (var run in group)
            {
                merged.Add(run.Histogram);
            }

            var file = Path.Combine(data, $"latency-{group.Key}.dat");
            await File.WriteAllLinesAsync(file, merged.Curve().Select(p =>
                string.Format(Invariant, "{0:F4} {1:F3} {2:F1}", p.Percentile, 1 / (1 - Math.Min(p.Percentile, 99.99) / 100), p.Nanoseconds / 1000.0)));
            latencyLines.Add($"'{Relative(directory, file)}' using 2:3 with linespoints title '{group.Key}'");
        }

        if (latencyLines.Count > 0)
        {
            script.Append("set output 'latency.png'\n");
            script.Append(CultureInfo.InvariantCulture, $"set title 'Echo latency by percentile, open loop at {results.LatencyRate:F0} calls/s (all rounds merged)'\n");
            script.Append("set logscale xy\nset xlabel 'percentile'\nset ylabel 'latency (us)'\n");
            script.Append("set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000)\n");
            script.Append("plot ").AppendJoin(", ", latencyLines).Append('\n');
            script.Append("unset logscale\nset xtics auto\n");
        }

        var memoryLines = new List<string>();
        foreach (var group in results.Memory.GroupBy(m => m.Server).OrderBy(g => g.Key))
        {
            var file = Path.Combine(data, $"memory-{group.Key}.dat");
            var points = group.First().Points.Select((point, i) => (
                point.Connections,
                Resident: ComparisonRunner.Median(group.Select(m => (double)m.Points[Math.Min(i, m.Points.Count - 1)].ResidentBytes)),
                Heap: ComparisonRunner.Median(group.Select(m => (double)m.Points[Math.Min(i, m.Points.Count - 1)].HeapBytes))));
            await File.WriteAllLinesAsync(file, points.Select(p =>
                string.Format(Invariant, "{0} {1:F1} {2:F1}", p.Connections, p.Resident / 1048576, p.Heap / 1048576)));
            memoryLines.Add($"'{Relative(directory, file)}' using 1:2 with linespoints lw 2 title '{group.Key} RSS'");
            memoryLines.Add($"'{Relative(directory, file)}' using 1:3 with linespoints dashtype 2 title '{group.Key} heap'");
        }

        if (memoryLines.Count > 0)
        {
            script.Append("set output 'memory.png'\n");
            script.Append("set title 'Server memory with idle authenticated connections (median of rounds)'\n");
            script.Append("set xlabel 'idle connections'\nset ylabel 'MB'\n");
            script.Append("plot ").AppendJoin(", ", memoryLines).Append('\n');
        }

        if (results.Flood.Count > 0)
        {
            var flood = results.Flood[0];
            var file = Path.Combine(data, "flood.dat");
            await File.WriteAllLinesAsync(file, flood.Timeline.Select(p => string.Format(Invariant, "{0:F2} {1:F3} {2}", p.Seconds, p.MaxLatencyMs, p.OpenFlood)));
            script.Append("set output 'flood.png'\n");
            script.Append(CultureInfo.InvariantCulture, $"set title 'Flood of {flood.Connections} unauthenticated connections (deadline {flood.Deadline.TotalSeconds:F0} s): victims and open flood connections'\n");
            script.Append("set xlabel 'seconds'\nset ylabel 'victims: worst latency per 250 ms (ms)'\nset logscale y\nset y2label 'open unauthenticated connections'\nset y2tics\nset ytics nomirror\n");
            var relative = Relative(directory, file);
            script.Append(CultureInfo.InvariantCulture, $"plot '{relative}' using 1:2 with lines lw 2 title 'victims max latency', '{relative}' using 1:3 axes x1y2 with lines lw 2 title 'open flood connections'\n");
        }

        var scriptFile = Path.Combine(data, "plots.gp");
        await File.WriteAllTextAsync(scriptFile, script.ToString());
        var written = new List<string>();
        try
        {
            // Paths in the script are relative to the results folder, so that `cd bench/results && gnuplot data/plots.gp` redraws.
            using var gnuplot = Process.Start(new ProcessStartInfo("gnuplot", scriptFile) { UseShellExecute = false, RedirectStandardError = true, WorkingDirectory = directory })!;
            var errors = await gnuplot.StandardError.ReadToEndAsync();
            await gnuplot.WaitForExitAsync();
            if (gnuplot.ExitCode != 0)
            {
                Console.Error.WriteLine($"gnuplot failed: {errors}");
            }

            written.AddRange(new[] { "latency.png", "memory.png", "flood.png" }.Select(f => Path.Combine(directory, f)).Where(File.Exists));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"gnuplot is not installed: the plots were not drawn ({scriptFile} draws them).");
        }

        return written;
    }

    private static string Relative(string directory, string file) => Path.GetRelativePath(directory, file);
}
