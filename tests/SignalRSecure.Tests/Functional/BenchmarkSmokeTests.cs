using MessagePack;
using Microsoft.Extensions.Logging;
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
    public async Task Harness_GroupsFanOut_ReportsTheBytesAndWebSocketMessagesOfEachDelivery()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync(BenchLimits);
        using var dialer = new Dialer(addresses: 2);
        using var target = new BenchTarget(ServerKind.G, server.BaseAddress, SecureServer.IssuerKey, ServerLauncher.TokenKey, stats: null, probe: null);
        using var fanOut = new FanOutScenario(target, dialer);
        await fanOut.GrowForGroupsAsync(groups: 2, members: 5).WaitAsync(TimeSpan.FromSeconds(30));

        // Act
        FanOut groups;
        try
        {
            groups = await fanOut.RunAsync("2 groups x 5", TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(800), round: 1)
                .WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex)
        {
            // Seen once on a loaded machine (a completion that never came): say what the server logged meanwhile.
            var warnings = server.Logs.Records.Where(record => record.Level >= LogLevel.Warning);
            throw new InvalidOperationException($"The fan-out ended early; the server's warnings: {string.Join(Environment.NewLine, warnings)}", ex);
        }

        // Assert: G's messages carry the sender, the group, the time and the history id (well over 100 bytes); no
        // WebSocket message carries less than one delivery, but pings may come between them. No probe: no runtime figures.
        Assert.True(groups.DeliveredPerSecond > 0);
        Assert.InRange(groups.BytesPerDelivery, 100, 400);
        Assert.True(groups.RecordsPerMessage > 0);
        Assert.Null(groups.Runtime);
    }

    [Fact]
    public async Task Harness_AcrossTwoNodesOnRedis_DeliversNodeABroadcastsToReceiversOnNodeB()
    {
        // Arrange: the cross-node fan-out of the scale-out scenarios, on two real nodes sharing a real redis-server.
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?>(BenchLimits) { ["SignalRSecure:Redis:Configuration"] = redis.Configuration };
        await using var nodeA = await SecureServer.StartAsync(settings);
        await using var nodeB = await SecureServer.StartAsync(settings);
        using var dialer = new Dialer(addresses: 2);
        using var sender = new BenchTarget(ServerKind.G, nodeA.BaseAddress, SecureServer.IssuerKey, ServerLauncher.TokenKey, stats: null, probe: null);
        using var receivers = new BenchTarget(ServerKind.G, nodeB.BaseAddress, SecureServer.IssuerKey, ServerLauncher.TokenKey, stats: null, probe: null);

        // Act
        FanOut broadcast;
        using (var fanOut = new FanOutScenario(receivers, dialer, sender))
        {
            await fanOut.GrowForBroadcastAsync(receivers: 10).WaitAsync(TimeSpan.FromSeconds(30));
            broadcast = await fanOut.RunAsync("cross-node broadcast", TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(800), round: 1)
                .WaitAsync(TimeSpan.FromSeconds(30));
        }

        // Assert: every receiver is on node B, so each delivery counted came from node A through Redis.
        Assert.True(broadcast.DeliveredPerSecond > 0);
        Assert.Equal(10, broadcast.Receivers);
    }

    [Fact]
    public void Harness_MessagePackFrames_ReadAsSignalRsMessagePackProtocolDefinesThem()
    {
        // Arrange
        var frame = Frames.SendToGroup("bench-001", HubProtocol.MessagePack);

        // Act
        Frames.Patch(frame, stamp: 0x0123456789ABCDEF, invocationId: 42);
        var reader = new MessagePackReader(frame);
        var length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var next = frame[shift / 7];
            length |= (next & 0x7f) << shift;
            if ((next & 0x80) == 0)
            {
                reader = new MessagePackReader(frame.AsMemory((shift / 7) + 1));
                break;
            }
        }

        // Assert: [1, {}, "00000042", "SendToGroup", ["bench-001", text], []] and nothing after it.
        Assert.Equal(frame.Length - 1, length);
        Assert.Equal(6, reader.ReadArrayHeader());
        Assert.Equal(1, reader.ReadInt32());
        Assert.Equal(0, reader.ReadMapHeader());
        Assert.Equal("00000042", reader.ReadString());
        Assert.Equal("SendToGroup", reader.ReadString());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal("bench-001", reader.ReadString());
        var text = reader.ReadString()!;
        Assert.Equal(Frames.TextLength, text.Length);
        Assert.StartsWith("@0123456789ABCDEF", text, StringComparison.Ordinal);
        Assert.Equal(0, reader.ReadArrayHeader());
        Assert.True(reader.End);
        Assert.Equal(0x0123456789ABCDEF, Frames.ReadStamp(frame.AsSpan(1)));
        Assert.Equal(1, Frames.TypeOf(frame.AsSpan(1)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Harness_MessagePackCompletions_TellAnErrorFromAResult(bool error)
    {
        // Arrange: a completion as SignalR's MessagePackHubProtocol writes it, [3, {}, id, resultKind, value].
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(5);
        writer.Write(3);
        writer.WriteMapHeader(0);
        writer.Write("00000007");
        writer.Write(error ? 1 : 3);
        writer.Write(error ? "An unexpected error occurred invoking 'Echo' on the server." : "@0000000000000001...............");
        writer.Flush();

        // Act
        var record = buffer.WrittenSpan;

        // Assert
        Assert.Equal(3, Frames.TypeOf(record));
        Assert.Equal(error, Frames.HasError(record));
        Assert.Equal(error ? -1 : 1, Frames.ReadStamp(record));
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
