using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Scenarios;
using SignalRSecure.Bench.Targets;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The benchmark harness (bench/) runs against the real server: its load generator opens gated connections with
/// minted tickets and measures. A smoke test only: short, small, and no assertion on any timing or rate.
/// </summary>
public sealed class BenchmarkSmokeTests
{
    private static readonly Dictionary<string, string?> BenchLimits = new()
    {
        ["SignalRSecure:Hub:InvocationsPerSecond"] = "1000000",
        ["SignalRSecure:Hub:InvocationBurst"] = "1000000",
        ["SignalRSecure:Hub:MessagesPerSecond"] = "1000000",
        ["SignalRSecure:Hub:MessageBurst"] = "2000000",
        ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "1000000",
        ["SignalRSecure:Hub:UserInvocationBurst"] = "1000000",
        ["SignalRSecure:Protection:MaxConnectionsPerUser"] = "1000000",
        ["SignalRSecure:Tickets:RequestsPerIpPerMinute"] = "1000000",
    };

    [Fact]
    public async Task Harness_AgainstTheGatedServer_MeasuresEchoAndBroadcast()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync(BenchLimits);
        using var dialer = new Dialer(addresses: 2);
        using var target = new BenchTarget(ServerKind.G, server.BaseAddress, SecureServer.IssuerKey, ServerLauncher.TokenKey, stats: null, probe: null);

        // Act
        var echo = await EchoScenario.ThroughputAsync(target, dialer, connections: 4, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(800), round: 1)
            .WaitAsync(TimeSpan.FromSeconds(30));
        var latency = await EchoScenario.LatencyAsync(target, dialer, connections: 4, rate: 200, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(800), round: 1)
            .WaitAsync(TimeSpan.FromSeconds(30));
        FanOut broadcast;
        using (var fanOut = new FanOutScenario(target, dialer))
        {
            await fanOut.GrowForBroadcastAsync(receivers: 10).WaitAsync(TimeSpan.FromSeconds(30));
            broadcast = await fanOut.RunAsync("broadcast", TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(800), round: 1)
                .WaitAsync(TimeSpan.FromSeconds(30));
        }

        // Assert
        Assert.Equal(0, echo.Errors);
        Assert.True(echo.PerSecond > 0);
        Assert.True(latency.Latency.P50 > 0);
        Assert.True(broadcast.DeliveredPerSecond > 0);
    }

    [Fact]
    public async Task FloodClient_AgainstTheGatedServer_ReportsEveryConnectionOpenedAndClosedByTheServer()
    {
        // Arrange: the flood scenario's attacker, run in this process; the scenario parses exactly these lines.
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Hub:AuthenticationTimeout"] = "00:00:01" });
        using var output = new StringWriter();

        // Act
        await FloodClient.RunAsync(server.BaseAddress, count: 5, connectors: 2, giveUpAfterOpen: TimeSpan.FromSeconds(15), output)
            .WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("open 5 0 ", lines[0], StringComparison.Ordinal);
        Assert.Equal("closed", lines[1]);
        var links = lines[2..^1].Select(line => line.Split(' ')).ToList();
        Assert.Equal(5, links.Count);
        Assert.All(links, link => Assert.True(link[0] == "link" && long.Parse(link[2], System.Globalization.CultureInfo.InvariantCulture) > long.Parse(link[1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("done", lines[^1]);
    }
}
