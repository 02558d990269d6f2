using System.Globalization;

namespace SignalRSecure.Bench.Targets;

/// <summary>
/// CPU time and resident memory of a server process, read from <c>/proc</c>. With <paramref name="companions"/> (the
/// other node and Redis of a cluster) the CPU time is theirs and the server's together; the memory stays the server's.
/// </summary>
internal sealed class ProcessStats(int pid, params int[] companions)
{
    public int Pid => pid;

    /// <summary>CPU time of every thread of the process and its companions so far, in nanoseconds.</summary>
    public long CpuNanoseconds()
    {
        var total = CpuNanosecondsOf(pid);
        foreach (var companion in companions)
        {
            total += CpuNanosecondsOf(companion);
        }

        return total;
    }

    /// <summary>CPU time of every thread of one process so far, in nanoseconds (schedstat; stat as a fallback).</summary>
    private static long CpuNanosecondsOf(int pid)
    {
        try
        {
            long total = 0;
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    var schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                    total += long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                    // A thread that ended while being read.
                }
            }

            // Threads that have ended are not in task/: stat's totals include them, at 10 ms resolution.
            return Math.Max(total, StatNanoseconds(pid));
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Waits until the process uses less than a tenth of a core over 200 ms (at most <paramref name="limit"/>), so
    /// that a measurement does not pay for work left over from the one before: tearing down the fan-out's groups
    /// keeps a server sending presence messages for a while.
    /// </summary>
    public async Task WaitUntilIdleAsync(TimeSpan limit)
    {
        var window = TimeSpan.FromMilliseconds(200);
        var giveUpAt = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < giveUpAt)
        {
            var before = CpuNanoseconds();
            await Task.Delay(window);
            if (CpuNanoseconds() - before < window.TotalNanoseconds / 10)
            {
                return;
            }
        }
    }

    /// <summary>Resident set size in bytes (VmRSS).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private static long StatNanoseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // utime and stime are fields 14 and 15 of stat, in clock ticks of 1/100 s.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 10_000_000;
    }
}
