using System.Globalization;

namespace SignalRSecure.Bench.Reporting;

/// <summary>Samples <c>/proc/loadavg</c> and <c>/proc/stat</c> in the background until stopped.</summary>
internal sealed class MachineLoadSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<double> _samples = [];
    private readonly double _before = LoadAverage();
    private readonly (long Busy, long Total) _startTicks = CpuTicks();
    private readonly Task _sampling;

    public MachineLoadSampler() => _sampling = SampleAsync();

    public async Task<MachineLoad> StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        var (busy, total) = CpuTicks();
        var cores = Environment.ProcessorCount > 1 ? Environment.ProcessorCount : File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3]));
        var busyCores = total == _startTicks.Total ? 0 : (double)(busy - _startTicks.Busy) / (total - _startTicks.Total) * cores;
        lock (_samples)
        {
            var samples = _samples.Count > 0 ? _samples : [_before];
            return new MachineLoad(_before, samples.Average(), samples.Max(), busyCores, cores);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }

    private static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>Busy and total jiffies of all cores: the first line of /proc/stat (user nice system idle iowait irq softirq steal).</summary>
    private static (long Busy, long Total) CpuTicks()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return (total - fields[3] - fields[4], total);
    }

    private async Task SampleAsync()
    {
        try
        {
            while (true)
            {
                lock (_samples)
                {
                    _samples.Add(LoadAverage());
                }

                await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
