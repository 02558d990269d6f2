using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Seeded random mutations of valid SignalR JSON frames, each sent before authentication on a fresh connection and
/// followed by an Echo (which must close any connection still open). Set SIGNALRSECURE_FUZZ_CASES and
/// SIGNALRSECURE_FUZZ_SEED to run longer or to replay a failure.
/// </summary>
public sealed class ProtocolFuzzTests(ITestOutputHelper output)
{
    private const int DefaultCases = 5_000;
    private const int DefaultSeed = 20261121;

    private static readonly string[] Templates =
    [
        """{"type":1,"invocationId":"1","target":"Authenticate","arguments":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]}""",
        """{"type":1,"invocationId":"2","target":"Echo","arguments":["hello"]}""",
        """{"type":1,"target":"Broadcast","arguments":["hello"]}""",
        """{"type":1,"invocationId":"3","target":"SendToGroup","arguments":["general","hi"],"streamIds":[]}""",
        """{"type":4,"invocationId":"4","target":"Echo","arguments":["x"]}""",
        """{"type":2,"invocationId":"5","item":{"a":[1,2,3]}}""",
        """{"type":3,"invocationId":"6","result":"x"}""",
        """{"type":5,"invocationId":"7"}""",
        """{"type":6}""",
        """{"type":7,"error":"bye","allowReconnect":true}""",
    ];

    private static readonly string[] Splices =
    [
        "\u001e", "\"", "{", "}", "[", "]", ",", ":", "null", "true", "-1", "1e309", "9999999999999999999999", "\\u0000",
        "\\ud800", "\u202e", "Authenticate", "\"target\":\"Authenticate\"", "\"type\":1", "\"type\":6", "\"streamIds\":[\"1\"]",
        new string('[', 64), new string('9', 600), "\"arguments\":[\"a\",\"b\"]",
    ];

    // Whole fields, each well-formed JSON on its own, put at the front of an object: repeated keys and fields of the
    // wrong type, which a gate reading frames differently from SignalR's parser would let through.
    private static readonly string[] Fields =
    [
        "\"type\":1", "\"type\":6", "\"type\":7", "\"type\":\"1\"", "\"type\":null", "\"type\":1.5", "\"invocationId\":5",
        "\"invocationId\":\"9\"", "\"invocationId\":null", "\"target\":\"Authenticate\"", "\"target\":\"Echo\"", "\"target\":7",
        "\"arguments\":[]", "\"arguments\":[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]", "\"arguments\":\"x\"",
        "\"arguments\":[1]", "\"streamIds\":\"abc\"", "\"streamIds\":[1]", "\"streamIds\":[\"1\"]", "\"headers\":[]",
        "\"headers\":{\"a\":1}", "\"headers\":{\"a\":\"b\"}", "\"error\":null", "\"error\":5", "\"allowReconnect\":\"x\"",
        "\"allowReconnect\":true", "\"item\":1", "\"result\":{}", "\"sequenceId\":\"1\"", "\"sequenceId\":1", "\"x\":{\"type\":6}",
    ];

    [Fact]
    public async Task MutatedFramesBeforeAuthentication_NeverReachAnyone_AndTheServerStaysHealthy()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SIGNALRSECURE_FUZZ_CASES"), out var c) ? c : DefaultCases;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SIGNALRSECURE_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000000",
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "1000000",
            ["SignalRSecure:Hub:InvocationBurst"] = "1000000",
            ["SignalRSecure:Hub:MessagesPerSecond"] = "1000000",
            ["SignalRSecure:Hub:MessageBurst"] = "2000000",
            ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "1000000",
            ["SignalRSecure:Hub:UserInvocationBurst"] = "1000000",
        });
        await using var probe = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, from: LoopbackAddress.Second);
        await probe.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice, from: LoopbackAddress.Second));
        var random = new Random(seed);

        for (var i = 0; i < cases; i++)
        {
            var frame = Mutate(random, Templates[random.Next(Templates.Length)]);
            try
            {
                await RunCaseAsync(server, probe, frame, broadcast: i % 100 == 0);
            }
            catch (Exception ex)
            {
                var errors = string.Join(Environment.NewLine, server.Logs.Records.Where(record => record.Level >= LogLevel.Warning && record.EventId.Name != "PreAuthenticationViolation").Select(record => $"{record.Category} {record.EventId.Name}: {record.Message} {record.Exception}"));
                throw new InvalidOperationException($"Fuzz case {i} of seed {seed} failed; frame: {JsonSerializer.Serialize(frame)}; server warnings and errors:{Environment.NewLine}{errors}", ex);
            }
        }

        output.WriteLine($"{cases} cases, seed {seed}");
        Assert.DoesNotContain(server.Logs.Records, record => record.Level >= LogLevel.Error);
    }

    private static async Task RunCaseAsync(SecureServer server, RawHubSocket probe, string frame, bool broadcast)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.SendRawAsync(Encoding.UTF8.GetBytes(frame + RawHubSocket.RecordSeparator));
        if (broadcast)
        {
            await probe.CallAsync(nameof(IChatHub.Broadcast), "canary");
        }

        await SendQuietlyAsync(socket, """{"type":1,"invocationId":"z","target":"Echo","arguments":["after"]}""");

        // Only a failed completion of its own Authenticate, pings and one close may reach an unauthenticated connection.
        // The close is the gate's, with a reason of the table, or an empty one answering the client's own close;
        // never SignalR's generic error, which would mean a frame passed the gate and failed in SignalR's parser.
        var closes = 0;
        foreach (var message in await socket.ReceiveUntilSocketClosesAsync())
        {
            var type = message.GetProperty("type").GetInt32();
            if (type == 7)
            {
                closes++;
                var reason = message.TryGetProperty("error", out var text) ? text.GetString() : null;
                Assert.True(reason is null || CloseReasons.IsTerminalByReason.ContainsKey(reason), $"Closed with {message}");
                continue;
            }

            Assert.True(closes == 0 && type == 3 && message.TryGetProperty("error", out _), $"An unauthenticated connection received {message}");
        }

        Assert.True(closes <= 1, $"{closes} close messages");

        var (echo, error) = await probe.CallAsync(nameof(IChatHub.Echo), "probe");
        Assert.Null(error);
        Assert.Equal("probe", echo!.Value.GetString());
    }

    private static async Task SendQuietlyAsync(RawHubSocket socket, string frame)
    {
        try
        {
            await socket.SendFrameAsync(frame);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // The mutated frame already made the server close the socket.
        }
    }

    private static string Mutate(Random random, string template)
    {
        var text = template;
        for (var round = random.Next(1, 4); round > 0; round--)
        {
            if (text.Length == 0)
            {
                text = template;
            }

            var at = random.Next(text.Length + 1);
            var inside = Math.Min(at, text.Length - 1);
            text = random.Next(7) switch
            {
                6 when text.StartsWith('{') => "{" + Fields[random.Next(Fields.Length)] + (text.Length > 1 && text[1] != '}' ? "," : string.Empty) + text[1..],
                0 => text.Remove(inside, 1).Insert(inside, ((char)random.Next(0x20, 0x7f)).ToString()),
                1 => text.Insert(at, Splices[random.Next(Splices.Length)]),
                2 => text[..at],
                3 => at < text.Length ? text.Remove(at, random.Next(1, text.Length - at + 1)) : text,
                4 => text.Insert(at, text[..Math.Min(text.Length, random.Next(1, 40))]),
                _ => text + RawHubSocket.RecordSeparator + Templates[random.Next(Templates.Length)],
            };
        }

        return text;
    }
}
