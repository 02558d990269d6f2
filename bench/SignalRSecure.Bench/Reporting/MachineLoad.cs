using System.Globalization;

namespace SignalRSecure.Bench.Reporting;

/// <summary>
/// The machine's load while a comparison ran: the one-minute load average before it started and, sampled every
/// 5 s, its mean and maximum; and how busy all cores were over the run (<c>/proc/stat</c>), the run's own work included.
/// </summary>
internal sealed record MachineLoad(double Before, double Mean, double Max, double BusyCores, int Cores)
{
    public string Describe() => string.Format(
        CultureInfo.InvariantCulture,
        "load average (1 min) {0:F2} before the run, {1:F2} mean and {2:F2} at most during it; {3:F2} of {4} cores busy on average, this run's own load included",
        Before, Mean, Max, BusyCores, Cores);
}
