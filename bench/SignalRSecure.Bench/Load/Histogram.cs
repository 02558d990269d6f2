using System.Numerics;

namespace SignalRSecure.Bench.Load;

/// <summary>
/// An HDR-style log-linear histogram of nanoseconds: exact below 2,048 ns, then 1,024 linear sub-buckets per power
/// of two (three significant digits) up to about 18 minutes. Recording is one interlocked increment.
/// </summary>
internal sealed class Histogram
{
    private const int SubBucketBits = 10;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int Exact = SubBuckets * 2;
    private const int Exponents = 31;

    private readonly long[] _counts = new long[Exact + (Exponents * SubBuckets)];
    private long _total;
    private long _max;

    public long Count => Volatile.Read(ref _total);

    public void Record(long nanoseconds)
    {
        var value = Math.Max(0, nanoseconds);
        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _total);
        long max;
        while (value > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, value, max) != max)
        {
        }
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        _total += other._total;
        _max = Math.Max(_max, other._max);
    }

    /// <summary>The value at <paramref name="percentile"/> (0-100), in nanoseconds; 0 when empty.</summary>
    public long Percentile(double percentile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        if (percentile >= 100)
        {
            return Volatile.Read(ref _max);
        }

        var rank = (long)Math.Ceiling(percentile / 100 * total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= Math.Max(1, rank))
            {
                return Math.Min(ValueOf(i), Volatile.Read(ref _max));
            }
        }

        return Volatile.Read(ref _max);
    }

    /// <summary>Percentile curve points (percentile, nanoseconds) for an HDR plot, denser towards the tail.</summary>
    public IEnumerable<(double Percentile, long Nanoseconds)> Curve()
    {
        foreach (var nines in new[] { 0.0, 0.3, 0.5, 0.7, 1.0, 1.3, 1.5, 1.7, 2.0, 2.3, 2.5, 2.7, 3.0, 3.3, 3.5, 3.7, 4.0 })
        {
            var percentile = 100 * (1 - Math.Pow(10, -nines));
            if (Count * (100 - percentile) / 100 < 1 && nines > 0)
            {
                yield return (100 * (1 - Math.Pow(10, -nines)), Volatile.Read(ref _max));
                yield break;
            }

            yield return (percentile, Percentile(percentile));
        }
    }

    private static int IndexOf(long value)
    {
        if (value < Exact)
        {
            return (int)value;
        }

        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits;
        var index = Exact + ((shift - 1) * SubBuckets) + (int)((value >> shift) - SubBuckets);
        return Math.Min(index, Exact + (Exponents * SubBuckets) - 1);
    }

    private static long ValueOf(int index)
    {
        if (index < Exact)
        {
            return index;
        }

        var shift = ((index - Exact) / SubBuckets) + 1;
        var sub = ((index - Exact) % SubBuckets) + SubBuckets;
        return ((long)sub << shift) + ((1L << shift) / 2);
    }
}
