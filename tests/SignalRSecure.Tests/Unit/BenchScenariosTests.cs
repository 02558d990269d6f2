using SignalRSecure.Bench.Comparison;

namespace SignalRSecure.Tests.Unit;

/// <summary>The benchmark's <c>--scenarios</c> names (bench/): the fan-out alone runs only when asked for by name.</summary>
public sealed class BenchScenariosTests
{
    [Fact]
    public void Parse_NoScenarios_RunsEveryScenarioButTheFanOutAlone()
    {
        // Act
        var scenarios = BenchScenarios.Parse(null);

        // Assert: a full run measures the fan-out in the latency phase already.
        Assert.Contains(BenchScenarios.Latency, scenarios);
        Assert.DoesNotContain(BenchScenarios.FanOut, scenarios);
    }

    [Fact]
    public void Parse_FanOutByName_RunsItAlone()
    {
        // Act
        var scenarios = BenchScenarios.Parse("fanout");

        // Assert: no echo first, and not taken for a run that splices sections into an existing report.
        Assert.Equal([BenchScenarios.FanOut], scenarios);
        Assert.False(BenchScenarios.OnlySelfContained(scenarios));
    }

    [Fact]
    public void Parse_UnknownScenario_NamesTheChoicesIncludingTheFanOut()
    {
        // Act
        var error = Assert.Throws<ArgumentException>(() => BenchScenarios.Parse("fan-out"));

        // Assert
        Assert.Contains("fanout", error.Message, StringComparison.Ordinal);
    }
}
