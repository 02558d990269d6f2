using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;
using static SignalRSecure.Tests.Infrastructure.MessagePackFrame;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Seeded random mutations of valid SignalR JSON and MessagePack frames, each sent before authentication on a fresh
/// connection and followed by an Echo (which must close any connection still open). Set SIGNALRSECURE_FUZZ_CASES and
/// SIGNALRSECURE_FUZZ_SEED to run longer or to replay a failure.
/// </summary>
public sealed class ProtocolFuzzTests(ITestOutputHelper output)
{
    private const int DefaultCases = 5_000;

    // Fewer by default than JSON's: each MessagePack case sends more bytes, and one in ten also logs in for a ticket.
    private const int DefaultMessagePackCases = 2_000;
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

    [Fact]
    public async Task MutatedMessagePackFramesBeforeAuthentication_NeverReachAnyone_NorSpendATicket()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SIGNALRSECURE_FUZZ_CASES"), out var c) ? c : DefaultMessagePackCases;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SIGNALRSECURE_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:Protocols"] = "json,messagepack",
            ["SignalRSecure:Tickets:RequestsPerIpPerMinute"] = "1000000",
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000000",
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "1000000",
            ["SignalRSecure:Hub:InvocationBurst"] = "1000000",
            ["SignalRSecure:Hub:MessagesPerSecond"] = "1000000",
            ["SignalRSecure:Hub:MessageBurst"] = "2000000",
            ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "1000000",
            ["SignalRSecure:Hub:UserInvocationBurst"] = "1000000",
        });
        await using var probe = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, from: LoopbackAddress.Second, protocol: ProtocolName);
        await probe.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice, from: LoopbackAddress.Second));
        using var carol = server.CreateAuthClient();
        await carol.LoginAsync(SecureServer.Carol);
        var random = new Random(seed);
        var spared = 0;

        for (var i = 0; i < cases; i++)
        {
            // One case in ten carries a real ticket: a frame the gate refuses must leave it unspent.
            var ticket = i % 10 == 0 ? (await carol.GetTicketAsync()).Ticket : null;
            var template = MessagePackTemplates[random.Next(MessagePackTemplates.Length)];
            var bytes = MutateMessagePack(random, template(ticket ?? FakeTicket));
            try
            {
                spared += await RunMessagePackCaseAsync(server, probe, bytes, ticket, broadcast: i % 100 == 0) ? 1 : 0;
            }
            catch (Exception ex)
            {
                var errors = string.Join(Environment.NewLine, server.Logs.Records.Where(record => record.Level >= LogLevel.Warning && record.EventId.Name != "PreAuthenticationViolation").Select(record => $"{record.Category} {record.EventId.Name}: {record.Message} {record.Exception}"));
                throw new InvalidOperationException($"MessagePack fuzz case {i} of seed {seed} failed; bytes: {Convert.ToHexString(bytes)}; server warnings and errors:{Environment.NewLine}{errors}", ex);
            }
        }

        output.WriteLine($"{cases} cases, seed {seed}, {spared} real tickets checked unspent after a refused frame");
        Assert.DoesNotContain(server.Logs.Records, record => record.Level >= LogLevel.Error);
    }

    private const string FakeTicket = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    private static readonly Func<string, byte[]>[] MessagePackTemplates =
    [
        ticket => Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }, Array.Empty<object?>()),
        ticket => Message(1, new Map { { "h", "v" } }, "1", "Authenticate", new object?[] { ticket }, Array.Empty<object?>()),
        ticket => Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }),
        _ => Message(1, new Map(), "2", "Echo", new object?[] { "hello" }, Array.Empty<object?>()),
        _ => Message(1, new Map(), null, "Broadcast", new object?[] { "hello" }, Array.Empty<object?>()),
        _ => Message(1, new Map(), "3", "SendToGroup", new object?[] { "general", "hi" }, Array.Empty<object?>()),
        _ => Message(4, new Map(), "4", "Echo", new object?[] { "x" }, Array.Empty<object?>()),
        _ => Message(2, new Map(), "5", new Map { { "a", new object?[] { 1, 2, 3 } } }),
        _ => Message(3, new Map(), "6", 3, "x"),
        _ => Message(5, new Map(), "7"),
        _ => Message(6),
        _ => Message(7, "bye", true),
        _ => Message(8, 1L),
    ];

    // Type codes: nil, the unused one, booleans, integers, floats, strings, binary, arrays, maps, extensions, fixints.
    private static readonly byte[] TypeCodes =
    [
        0xc0, 0xc1, 0xc2, 0xc3, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xca, 0xcb, 0xa0, 0xbf, 0xd9, 0xda, 0xdb, 0xc4, 0xc6,
        0x90, 0x91, 0x96, 0x9f, 0xdc, 0xdd, 0x80, 0x81, 0x8f, 0xde, 0xdf, 0xd4, 0xd8, 0xc7, 0xc9, 0x00, 0x01, 0x06, 0x07,
        0x7f, 0xe0, 0xff,
    ];

    private static readonly byte[][] MessagePackSplices =
    [
        Pack("Authenticate"), Pack(6), Pack(1), Message(6), Message(7, null), [0xc0], Pack(new object?[] { "x" }),
        Pack(new Map { { "a", "b" } }), Pack(Array.Empty<object?>()), Pack(new Map()), Pack(new string('x', 300)),
        [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0x7f, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xff], [.. Enumerable.Repeat((byte)0x91, 64)],
    ];

    /// <summary>
    /// Mutates a payload (types, array sizes, truncation, splices), frames it, and sometimes mutates the frame's length
    /// prefix or glues another frame after it.
    /// </summary>
    private static byte[] MutateMessagePack(Random random, byte[] payload)
    {
        var bytes = payload.ToList();
        for (var round = random.Next(0, 3); round > 0 && bytes.Count > 0; round--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] = TypeCodes[random.Next(TypeCodes.Length)];
                    break;
                case 2:
                    // An array's size: the message's own or one inside it.
                    var arrays = Enumerable.Range(0, bytes.Count).Where(index => bytes[index] is >= 0x90 and <= 0x9f).ToArray();
                    var array = arrays.Length > 0 ? arrays[random.Next(arrays.Length)] : 0;
                    bytes[array] = (byte)(0x90 + random.Next(16));
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    bytes.RemoveRange(at, random.Next(1, bytes.Count - at + 1));
                    break;
                case 5:
                    bytes.InsertRange(at, MessagePackSplices[random.Next(MessagePackSplices.Length)]);
                    break;
                default:
                    bytes.InsertRange(at, bytes.Take(random.Next(1, Math.Min(bytes.Count, 40) + 1)).ToArray());
                    break;
            }
        }

        byte[] prefix = random.Next(6) switch
        {
            0 => Prefix(Math.Max(0, bytes.Count + random.Next(-3, 4))),
            1 => [.. Prefix(bytes.Count).Select(part => (byte)(part | 0x80)), 0x00],
            2 => [0xff, 0xff, 0xff, 0xff, (byte)random.Next(256)],
            3 => Prefix(random.Next(0, 5000)),
            _ => Prefix(bytes.Count),
        };
        byte[] frame = [.. prefix, .. bytes];
        return random.Next(5) == 0 ? [.. frame, .. Frame(MessagePackTemplates[random.Next(MessagePackTemplates.Length)](FakeTicket))] : frame;
    }

    /// <summary>Runs one case; true when it carried a real ticket that a refused frame left unspent (and that was checked).</summary>
    private static async Task<bool> RunMessagePackCaseAsync(SecureServer server, RawHubSocket probe, byte[] bytes, string? ticket, bool broadcast)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, protocol: ProtocolName);
        await socket.SendBinaryAsync(bytes);
        if (broadcast)
        {
            await probe.CallAsync(nameof(IChatHub.Broadcast), "canary");
        }

        // The Echo, then enough empty frames to complete a frame whose prefix announced more than was sent: the gate
        // must reach a verdict on every case without waiting for the authentication deadline.
        await SendQuietlyAsync(() => socket.SendBinaryAsync([.. Invocation("z", nameof(IChatHub.Echo), "after"), .. new byte[2100]]));

        var closes = 0;
        var completions = 0;
        while (await ReceiveOrEndAsync(socket) is { } message)
        {
            var type = message.GetProperty("type").GetInt32();
            if (type == 7)
            {
                closes++;
                var reason = message.TryGetProperty("error", out var text) ? text.GetString() : null;
                Assert.True(reason is null || CloseReasons.IsTerminalByReason.ContainsKey(reason), $"Closed with {message}");
                continue;
            }

            if (type == 3 && ticket is not null && !message.TryGetProperty("error", out _) && closes == 0)
            {
                // The mutation left a valid Authenticate with the real ticket: authenticated, nothing more to check.
                return false;
            }

            completions++;
            Assert.True(closes == 0 && type == 3 && message.TryGetProperty("error", out _), $"An unauthenticated connection received {message}");
        }

        Assert.True(closes <= 1, $"{closes} close messages");

        var (echo, error) = await probe.CallAsync(nameof(IChatHub.Echo), "probe");
        Assert.Null(error);
        Assert.Equal("probe", echo!.Value.GetString());

        if (ticket is null || completions > 0)
        {
            return false;
        }

        // No Authenticate reached the hub: the ticket must still be good.
        await using var check = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, protocol: ProtocolName);
        var (result, refused) = await check.CallAsync(nameof(IChatHub.Authenticate), ticket);
        Assert.True(refused is null, $"The ticket was spent: {refused}");
        Assert.Equal("carol", result!.Value.GetProperty("user").GetString());
        return true;
    }

    private static async Task<JsonElement?> ReceiveOrEndAsync(RawHubSocket socket)
    {
        try
        {
            return await socket.ReceiveAsync();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task SendQuietlyAsync(Func<Task> send)
    {
        try
        {
            await send();
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // The mutated frame already made the server close the socket.
        }
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
