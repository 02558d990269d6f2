using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>What the server refuses at the door (Origin, per-IP caps, lockout, transports) and the per-connection limits.</summary>
public sealed class DoorProtectionTests
{
    private const string Foreign = "http://evil.example";

    [Fact]
    public async Task Upgrade_FromAForeignOrigin_Gets403WithoutNegotiate()
    {
        await using var server = await SecureServer.StartAsync();

        Assert.Equal(HttpStatusCode.Forbidden, await RawHubSocket.TryConnectAsync(server.WebSocketHubUri, origin: Foreign));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await RawHubSocket.TryConnectAsync(server.WebSocketHubUri, origin: server.BaseAddress.GetLeftPart(UriPartial.Authority)));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await RawHubSocket.TryConnectAsync(server.WebSocketHubUri, origin: null));
    }

    [Fact]
    public async Task Negotiate_FromAForeignOrigin_Gets403()
    {
        await using var server = await SecureServer.StartAsync();
        using var client = server.CreateAuthClient(origin: Foreign);

        using var response = await client.Http.PostAsync($"{ChatEndpoints.Hub}/negotiate?negotiateVersion=1", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Negotiate_OffersWebSocketsOnly_AndOtherTransportsAreRefused()
    {
        await using var server = await SecureServer.StartAsync();
        using var client = server.CreateAuthClient();

        using var negotiate = await client.Http.PostAsync($"{ChatEndpoints.Hub}/negotiate?negotiateVersion=1", null);
        var body = await negotiate.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var transports = body.GetProperty("availableTransports").EnumerateArray().Select(t => t.GetProperty("transport").GetString()).ToList();
        using var sse = new HttpRequestMessage(HttpMethod.Get, $"{ChatEndpoints.Hub}?id={body.GetProperty("connectionToken").GetString()}");
        sse.Headers.Accept.ParseAdd("text/event-stream");
        using var sseResponse = await client.Http.SendAsync(sse, HttpCompletionOption.ResponseHeadersRead);
        using var poll = await client.Http.GetAsync($"{ChatEndpoints.Hub}?id={body.GetProperty("connectionToken").GetString()}");

        Assert.Equal(["WebSockets"], transports);
        Assert.False(sseResponse.IsSuccessStatusCode);
        Assert.False(poll.IsSuccessStatusCode);
    }

    [Fact]
    public async Task Connections_OverThePerIpUnauthenticatedCap_Get429_OtherAddressesDoNot()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "2" });
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var second = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var third = await RawHubSocket.TryConnectAsync(server.WebSocketHubUri);
        var fromElsewhere = await RawHubSocket.TryConnectAsync(server.WebSocketHubUri, from: LoopbackAddress.Second);
        await first.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        var afterOneAuthenticated = await RawHubSocket.TryConnectAsync(server.WebSocketHubUri);

        Assert.Equal(HttpStatusCode.TooManyRequests, third);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, fromElsewhere);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, afterOneAuthenticated);
    }

    [Fact]
    public async Task NewConnections_OverTheGlobalPace_WaitTheirTurn_BeyondTheQueueGet429()
    {
        // One new connection a second, one at once, one waiting: of three more arriving together at most one finds a
        // fresh token, one waits for the next and the rest are refused.
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:NewConnectionsPerSecond"] = "1",
            ["SignalRSecure:Protection:NewConnectionBurst"] = "1",
            ["SignalRSecure:Protection:NewConnectionQueueLimit"] = "1",
        });
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var outcomes = await Task.WhenAll(
            RawHubSocket.TryConnectAsync(server.WebSocketHubUri),
            RawHubSocket.TryConnectAsync(server.WebSocketHubUri, from: LoopbackAddress.Second),
            RawHubSocket.TryConnectAsync(server.WebSocketHubUri, from: LoopbackAddress.Second));

        Assert.Contains(HttpStatusCode.SwitchingProtocols, outcomes);
        Assert.Contains(HttpStatusCode.TooManyRequests, outcomes);
        Assert.All(outcomes, outcome => Assert.True(outcome is HttpStatusCode.SwitchingProtocols or HttpStatusCode.TooManyRequests, $"unexpected {outcome}"));
        Assert.NotEmpty(server.Logs.WithEvent("NewConnectionQueueFull"));
    }

    [Fact]
    public async Task Connections_OverThePerIpCap_Get429()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Protection:MaxConnectionsPerIp"] = "1" });
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        Assert.Equal(HttpStatusCode.TooManyRequests, await RawHubSocket.TryConnectAsync(server.WebSocketHubUri));
    }

    [Fact]
    public async Task Upgrades_SignalRRefuses_GiveTheirPermitsBack()
    {
        // Admitted at the door, then refused by SignalR (no connection with that id): no gate ever takes the permits.
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Protection:MaxConnectionsPerIp"] = "2" });
        var unknownConnection = new UriBuilder(server.WebSocketHubUri) { Query = "id=not-a-connection" }.Uri;

        var refused = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            refused.Add(await RawHubSocket.TryConnectAsync(unknownConnection).WaitAsync(TimeSpan.FromSeconds(10)));
        }

        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var second = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        var third = await RawHubSocket.TryConnectAsync(server.WebSocketHubUri).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(refused, status => Assert.Equal(HttpStatusCode.NotFound, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, third);
    }

    [Fact]
    public async Task FailedAuthentications_TripThePerIpLockout_429WithRetryAfter_OtherAddressUnaffected()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "3" });
        for (var i = 0; i < 3; i++)
        {
            await using var attempt = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
            await attempt.CallAsync(nameof(IChatHub.Authenticate), $"wrong-{i}");
        }

        using var http = server.CreateAuthClient();
        using var refused = await http.Http.GetAsync(ChatEndpoints.Hub);
        var upgrade = await RawHubSocket.TryConnectAsync(server.WebSocketHubUri);
        var fromElsewhere = await RawHubSocket.TryConnectAsync(server.WebSocketHubUri, from: LoopbackAddress.Second);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(5), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.TooManyRequests, upgrade);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, fromElsewhere);
    }

    [Fact]
    public async Task Invocations_OverTheRate_ErrorRateLimited_ThenRepeatedAbuseCloses()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "1",
            ["SignalRSecure:Hub:InvocationBurst"] = "1",
            ["SignalRSecure:Hub:RateLimitStrikesBeforeClose"] = "3",
        });
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        await socket.CallAsync(nameof(IChatHub.Echo), "1");

        var (_, limited) = await socket.CallAsync(nameof(IChatHub.Echo), "2");
        for (var i = 0; i < 3; i++)
        {
            await socket.InvokeAsync(nameof(IChatHub.Echo), "flood");
        }

        Assert.True(HubErrors.TryParse(limited, out var parsed));
        Assert.Equal(HubErrors.RateLimited, parsed);
        var close = await ReceiveUntilCloseAsync(socket);
        Assert.Equal(CloseReasons.RateLimited, close);
    }

    [Theory]
    [InlineData(4096, true)]
    [InlineData(4097, false)]
    public async Task Message_AtAndOverTheAuthenticatedSizeCap_PassesOrClosesWithMessageTooLarge(int size, bool passes)
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Hub:MaximumReceiveMessageSize"] = "4096" });
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));

        // The whole frame, record separator included, is exactly `size` bytes.
        var empty = """{"type":1,"invocationId":"1","target":"Echo","arguments":[""]}""" + RawHubSocket.RecordSeparator;
        await socket.SendFrameAsync($$"""{"type":1,"invocationId":"1","target":"Echo","arguments":["{{new string('x', size - empty.Length)}}"]}""");

        if (passes)
        {
            var reply = await socket.ReceiveAsync();
            Assert.Equal(size - empty.Length, reply.GetProperty("result").GetString()!.Length);
        }
        else
        {
            var close = await socket.ReceiveCloseAsync();
            Assert.Equal(CloseReasons.MessageTooLarge, close.Error);
            Assert.False(close.AllowReconnect);
        }
    }

    [Fact]
    public async Task ClientsUser_AfterAuthentication_ReachesTheTicketsUser()
    {
        await using var server = await SecureServer.StartAsync();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        var hub = server.GetRequiredService<IHubContext<ChatHub, IChatClient>>();

        await hub.Clients.User("alice").ReceiveMessage(new ChatMessage("server", "to alice", null, DateTimeOffset.UnixEpoch));
        var message = await socket.ReceiveAsync();

        Assert.Equal("to alice", message.GetProperty("arguments")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task ClientsAll_FromServerCode_SkipsUnauthenticatedConnections()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Hub:AuthenticationTimeout"] = "00:00:01" });
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        await using var listener = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var alice = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await alice.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var hub = server.GetRequiredService<IHubContext<ChatHub, IChatClient>>();

        await hub.Clients.All.ReceiveMessage(new ChatMessage("server", "all", null, DateTimeOffset.UnixEpoch));
        await hub.Clients.Client(ConnectionIdOf(server)).ReceiveMessage(new ChatMessage("server", "direct", null, DateTimeOffset.UnixEpoch));

        Assert.Equal("all", (await alice.ReceiveAsync()).GetProperty("arguments")[0].GetProperty("text").GetString());
        Assert.Equal(CloseReasons.AuthenticationTimeout, (await listener.ReceiveCloseAsync()).Error);
    }

    private static string ConnectionIdOf(SecureServer server) =>
        server.Logs.WithEvent("ConnectionOpened").First().Message.Split(' ')[3];

    private static async Task<string?> ReceiveUntilCloseAsync(RawHubSocket socket)
    {
        while (true)
        {
            var message = await socket.ReceiveAsync();
            if (message.GetProperty("type").GetInt32() == 7)
            {
                return message.GetProperty("error").GetString();
            }
        }
    }
}
