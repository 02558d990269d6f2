using SignalRSecure.Bench.Reporting;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The benchmark report's statistics (bench/): the bootstrap interval of the median of per-round ratios and the
/// verdict a target gets from it. Pure arithmetic, no timing.
/// </summary>
public sealed class BenchStatisticsTests
{
    private static readonly double[] SevenRounds = [1.10, 1.07, 1.02, 0.95, 1.04, 1.12, 0.99];

    [Fact]
    public void MedianInterval_SameRounds_SameIntervalEveryTime()
    {
        // Act
        var first = MedianInterval.Of(SevenRounds);
        var second = MedianInterval.Of(SevenRounds);

        // Assert: a fixed seed, so a report can be reproduced from its rounds.
        Assert.Equal(first, second);
    }

    [Fact]
    public void MedianInterval_SevenRounds_ContainsTheMedianAndStaysWithinTheRounds()
    {
        // Act
        var interval = MedianInterval.Of(SevenRounds);

        // Assert
        Assert.Equal(1.04, interval.Median, 10);
        Assert.Equal(7, interval.Rounds);
        Assert.InRange(interval.Low, SevenRounds.Min(), interval.Median);
        Assert.InRange(interval.High, interval.Median, SevenRounds.Max());
        Assert.True(interval.Low < interval.High);
    }

    [Fact]
    public void MedianInterval_EvenCount_MedianIsTheMeanOfTheMiddleTwo()
    {
        // Act
        var interval = MedianInterval.Of([4.0, 1.0, 3.0, 2.0]);

        // Assert
        Assert.Equal(2.5, interval.Median, 10);
    }

    [Fact]
    public void MedianInterval_IdenticalRounds_HasNoWidth()
    {
        // Act
        var interval = MedianInterval.Of([0.9, 0.9, 0.9, 0.9, 0.9]);

        // Assert
        Assert.Equal(0.9, interval.Low, 10);
        Assert.Equal(0.9, interval.High, 10);
    }

    [Fact]
    public void MedianInterval_OneWildRound_DoesNotMoveTheInterval()
    {
        // Arrange: six quiet rounds and one in which another process took the core.
        double[] rounds = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 5.0];

        // Act
        var interval = MedianInterval.Of(rounds);

        // Assert: the median resists one outlier, and so does its interval's upper end (it would take four of seven).
        Assert.InRange(interval.High, 1.00, 1.02);
    }

    [Fact]
    public void MedianInterval_MoreSpread_WiderInterval()
    {
        // Arrange
        double[] tight = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01];
        double[] loose = [1.00, 1.10, 0.90, 1.20, 0.80, 1.00, 1.10];

        // Act
        var narrow = MedianInterval.Of(tight);
        var wide = MedianInterval.Of(loose);

        // Assert
        Assert.True(wide.High - wide.Low > narrow.High - narrow.Low);
    }

    [Fact]
    public void MedianInterval_NoRounds_IsNotANumber()
    {
        // Act
        var interval = MedianInterval.Of([]);

        // Assert
        Assert.True(double.IsNaN(interval.Median));
        Assert.Equal(Verdict.Undecided, interval.Judge(1, higherIsBetter: true));
    }

    [Theory]
    [InlineData(0.97, true, nameof(Verdict.Met))]
    [InlineData(0.94, true, nameof(Verdict.Met))]
    [InlineData(1.20, true, nameof(Verdict.Missed))]
    [InlineData(1.04, true, nameof(Verdict.Undecided))]
    [InlineData(1.20, false, nameof(Verdict.Met))]
    [InlineData(0.90, false, nameof(Verdict.Missed))]
    [InlineData(1.03, false, nameof(Verdict.Undecided))]
    public void Judge_GoalAgainstTheInterval_MetMissedOrUndecided(double goal, bool higherIsBetter, string expected)
    {
        // Arrange: the interval of these rounds lies well inside 0.95 - 1.12.
        var interval = MedianInterval.Of(SevenRounds);
        Assert.InRange(interval.Low, 0.95, 1.04);
        Assert.InRange(interval.High, 1.04, 1.12);

        // Act
        var verdict = interval.Judge(goal, higherIsBetter);

        // Assert
        Assert.Equal(Enum.Parse<Verdict>(expected), verdict);
    }

    [Fact]
    public void Judge_GoalOnTheIntervalsEdge_CountsAsMet()
    {
        // Arrange: "at least 0.9" is met by an interval that starts at exactly 0.9.
        var interval = new MedianInterval(Median: 1.0, Low: 0.9, High: 1.1, Rounds: 7);

        // Act and assert
        Assert.Equal(Verdict.Met, interval.Judge(0.9, higherIsBetter: true));
        Assert.Equal(Verdict.Met, interval.Judge(1.1, higherIsBetter: false));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Judge_FewerThanThreeRounds_Undecided(int rounds)
    {
        // Arrange: far above the goal, but one or two rounds say nothing about the next run.
        var interval = MedianInterval.Of([.. Enumerable.Repeat(5.0, rounds)]);

        // Act and assert
        Assert.Equal(Verdict.Undecided, interval.Judge(1, higherIsBetter: true));
    }

    [Fact]
    public void Judge_ThreeRoundsAllAboveTheGoal_Met()
    {
        // Act
        var interval = MedianInterval.Of([1.5, 1.6, 1.7]);

        // Assert
        Assert.Equal(Verdict.Met, interval.Judge(1, higherIsBetter: true));
        Assert.Equal(Verdict.Missed, interval.Judge(1, higherIsBetter: false));
    }
}
