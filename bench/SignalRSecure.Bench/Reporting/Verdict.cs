namespace SignalRSecure.Bench.Reporting;

/// <summary>What a bootstrap interval says about a target (<see cref="MedianInterval.Judge"/>).</summary>
internal enum Verdict
{
    /// <summary>The goal is inside the interval, or too few rounds to tell.</summary>
    Undecided,

    /// <summary>The whole interval is on the good side of the goal.</summary>
    Met,

    /// <summary>The whole interval is on the bad side of the goal.</summary>
    Missed,
}
