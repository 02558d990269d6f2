using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// Server nodes behind a real nginx (<see cref="NginxProxy"/>) that appends the client's address to
/// <c>X-Forwarded-For</c>: with the proxy configured in <c>SignalRSecure:Proxy</c>, IP binding, the lockout and the
/// login throttle count each client, not the proxy; the header from anywhere else is ignored.
/// </summary>
public sealed class ReverseProxyTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly IPAddress FirstClient = IPAddress.Parse("127.0.0.5");
    private static readonly IPAddress SecondClient = IPAddress.Parse("127.0.0.6");

    private static readonly Dictionary<string, string?> BehindLoopbackProxy = new()
    {
        ["SignalRSecure:Proxy:KnownProxies:0"] = "127.0.0.1",
    };

    [Fact]
    public async Task Lockout_BehindTheProxy_LocksOutTheFailingClient_NotEveryClientOfTheProxy()
    {
        // Arrange
        await using var node = await SecureServer.StartAsync(new Dictionary<string, string?>(BehindLoopbackProxy)
        {
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "3",
        });
        await using var proxy = await NginxProxy.StartAsync([node.BaseAddress]);

        // Act: three wrong tickets from the first client, then a good ticket from each client.
        for (var i = 0; i < 3; i++)
        {
            await using var wrong = await RawHubSocket.ConnectWithHandshakeAsync(HubThrough(proxy), from: FirstClient);
            Assert.NotNull((await wrong.CallAsync(nameof(IChatHub.Authenticate), "wrong-ticket")).Error);
        }

        var firstUpgrade = await RawHubSocket.TryConnectAsync(HubThrough(proxy), from: FirstClient);
        var secondResult = await AuthenticateThroughAsync(proxy, SecondClient);

        // Assert: the locked-out address is refused at the door; the other client of the same proxy gets in.
        Assert.Equal(HttpStatusCode.TooManyRequests, firstUpgrade);
        Assert.Null(secondResult);
        Assert.Contains(node.Logs.WithEvent("AddressLockedOut"), r => r.Message.Contains(FirstClient.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ForwardedFor_ThatTheClientMadeUp_IsNotBelieved_DirectOrThroughTheProxy(bool throughProxy)
    {
        // Arrange: a login throttle of 3 per address; every attempt claims another address.
        await using var node = await SecureServer.StartAsync(new Dictionary<string, string?>(BehindLoopbackProxy)
        {
            ["SignalRSecure:Login:AttemptsPerIp"] = "3",
        });
        await using var proxy = await NginxProxy.StartAsync([node.BaseAddress]);
        using var client = new HttpClient(LoopbackAddress.HandlerFrom(IPAddress.Parse("127.0.0.7"))) { BaseAddress = throughProxy ? proxy.BaseAddress : node.BaseAddress };

        // Act
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, SecureEndpoints.Login)
            {
                Content = JsonContent.Create(new LoginRequest($"nobody-{i}", "wrong password")),
            };
            request.Headers.Add("X-Forwarded-For", $"10.0.0.{i + 1}");
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        // Assert: the fourth attempt of the one real address is throttled.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Ticket_MintedThroughTheProxy_IsBoundToTheClientsAddress_OnEitherNode()
    {
        // Arrange: two nodes on one Redis behind the proxy, which alternates between them.
        var settings = new Dictionary<string, string?>(BehindLoopbackProxy)
        {
            ["SignalRSecure:Redis:Configuration"] = redis.Server.Configuration,
            ["SignalRSecure:Redis:ChannelPrefix"] = RedisFixture.UniquePrefix(),
        };
        await using var nodeA = await SecureServer.StartAsync(settings);
        await using var nodeB = await SecureServer.StartAsync(settings);
        await using var proxy = await NginxProxy.StartAsync([nodeA.BaseAddress, nodeB.BaseAddress]);
        using var auth = new AuthClient(proxy.BaseAddress, from: FirstClient);
        await auth.LoginAsync(SecureServer.Alice);

        // Act: each ticket from the first client, used once from the other client and once from its own.
        var stolen = (await auth.GetTicketAsync()).Ticket;
        await using var thief = await RawHubSocket.ConnectWithHandshakeAsync(HubThrough(proxy), from: SecondClient);
        var thiefResult = Parse((await thief.CallAsync(nameof(IChatHub.Authenticate), stolen)).Error);
        var results = new List<string?>();
        for (var i = 0; i < 2; i++)
        {
            if (i == 1)
            {
                // nginx alternates between the nodes, and a ticket and its upgrade are two requests: one more request
                // moves the second upgrade onto the other node.
                (await auth.Http.GetAsync(new Uri(proxy.BaseAddress, SecureEndpoints.Health))).Dispose();
            }

            var ticket = (await auth.GetTicketAsync()).Ticket;
            await using var owner = await RawHubSocket.ConnectWithHandshakeAsync(HubThrough(proxy), from: FirstClient);
            results.Add((await owner.CallAsync(nameof(IChatHub.Authenticate), ticket)).Error);
        }

        // Assert: refused for the wrong address, accepted for the right one on both nodes.
        Assert.Equal(HubErrors.AuthenticationFailed, thiefResult);
        Assert.All(results, Assert.Null);
        Assert.Contains(nodeA.Logs.WithEvent("Authenticated"), r => r.Message.Contains(FirstClient.ToString(), StringComparison.Ordinal));
        Assert.Contains(nodeB.Logs.WithEvent("Authenticated"), r => r.Message.Contains(FirstClient.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("KnownProxies:0", "not-an-address")]
    [InlineData("KnownNetworks:0", "10.0.0.0")]
    [InlineData("ForwardLimit", "0")]
    public async Task Proxy_InvalidSetting_FailsStartUpNamingTheKey(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => SecureServer.StartAsync(new Dictionary<string, string?>
        {
            [$"SignalRSecure:Proxy:{key}"] = value,
        }));

        Assert.Contains($"SignalRSecure:Proxy:{key}", error.Message, StringComparison.Ordinal);
    }

    private static Uri HubThrough(NginxProxy proxy) => new($"ws://127.0.0.1:{proxy.Port}{ChatEndpoints.Hub}");

    private static async Task<string?> AuthenticateThroughAsync(NginxProxy proxy, IPAddress from)
    {
        using var auth = new AuthClient(proxy.BaseAddress, from: from);
        await auth.LoginAsync(SecureServer.Bob);
        var ticket = (await auth.GetTicketAsync()).Ticket;
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(HubThrough(proxy), from: from);
        return Parse((await socket.CallAsync(nameof(IChatHub.Authenticate), ticket)).Error);
    }

    private static string? Parse(string? error) => error is not null && HubErrors.TryParse(error, out var parsed) ? parsed : error;
}
