namespace SignalRSecure.Bench.Reporting;

/// <summary>
/// The median of per-round values (ratios G/A and the like, each taken within one round) with a percentile bootstrap
/// confidence interval: the rounds are resampled with replacement, the median of each resample taken, and the interval
/// is the middle <see cref="Confidence"/> of those medians.
/// </summary>
/// <remarks>
/// Resampling rounds, not single calls, because the rounds are what varies on this machine (one server's rounds swing
/// by 1.4x while a round's thousands of calls agree with each other). The generator is seeded, so the same rounds always
/// give the same interval and a report can be reproduced from its per-round numbers.
/// </remarks>
internal sealed record MedianInterval(double Median, double Low, double High, int Rounds)
{
    /// <summary>How many resamples of the rounds an interval is taken from.</summary>
    public const int DefaultResamples = 10_000;

    /// <summary>The seed of the resampling, fixed so that reports are reproducible.</summary>
    public const int DefaultSeed = 20_261_129;

    /// <summary>The share of the resampled medians inside the interval.</summary>
    public const double Confidence = 0.95;

    /// <summary>
    /// Fewer rounds than this give no interval worth judging by: with one or two rounds every resampled median is one
    /// of at most three numbers, so the "interval" is the rounds themselves and says nothing about the next run.
    /// </summary>
    public const int MinimumRounds = 3;

    /// <summary>The median of <paramref name="values"/> and its bootstrap interval.</summary>
    public static MedianInterval Of(IReadOnlyList<double> values, int resamples = DefaultResamples, int seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        if (values.Count == 0)
        {
            return new MedianInterval(double.NaN, double.NaN, double.NaN, 0);
        }

        var random = new Random(seed);
        var medians = new double[resamples];
        var sample = new double[values.Count];
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < sample.Length; i++)
            {
                sample[i] = values[random.Next(values.Count)];
            }

            medians[r] = MedianOf(sample);
        }

        Array.Sort(medians);
        var tail = (1 - Confidence) / 2;
        return new MedianInterval(MedianOf([.. values]), Quantile(medians, tail), Quantile(medians, 1 - tail), values.Count);
    }

    /// <summary>
    /// Met when the whole interval is on the good side of <paramref name="goal"/>, missed when the whole interval is on
    /// the bad side, undecided when the goal is inside it or there are fewer than <see cref="MinimumRounds"/> rounds.
    /// </summary>
    public Verdict Judge(double goal, bool higherIsBetter)
    {
        if (Rounds < MinimumRounds || double.IsNaN(Low))
        {
            return Verdict.Undecided;
        }

        var good = higherIsBetter ? Low >= goal : High <= goal;
        var bad = higherIsBetter ? High < goal : Low > goal;
        return good ? Verdict.Met : bad ? Verdict.Missed : Verdict.Undecided;
    }

    /// <summary>Sorts <paramref name="values"/> in place and returns its median.</summary>
    private static double MedianOf(double[] values)
    {
        Array.Sort(values);
        var middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /// <summary>The <paramref name="p"/> quantile of sorted values, interpolated between neighbours.</summary>
    private static double Quantile(double[] sorted, double p)
    {
        var at = p * (sorted.Length - 1);
        var below = (int)Math.Floor(at);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + ((at - below) * (sorted[above] - sorted[below]));
    }
}
