using System.Net;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// Negotiate creates a connection inside SignalR, so it meets the same door as the upgrade: lockout, per-IP caps and
/// the global pace, all answered with 429 and <c>Retry-After</c> before SignalR sees the request.
/// </summary>
public sealed class NegotiateDoorTests
{
    private const string Negotiate = ChatEndpoints.Hub + "/negotiate?negotiateVersion=1";

    [Fact]
    public async Task Negotiate_FromALockedOutAddress_Gets429WithRetryAfter()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1" });
        await using (var attempt = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri))
        {
            await attempt.CallAsync(nameof(IChatHub.Authenticate), "wrong");
        }

        using var client = server.CreateAuthClient();
        using var response = await client.Http.PostAsync(Negotiate, null);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(5), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Negotiate_FromAnAddressAtItsUnauthenticatedCap_Gets429_OtherAddressesDoNot()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "1" });
        await using var pending = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        using var client = server.CreateAuthClient();
        using var elsewhere = server.CreateAuthClient(from: LoopbackAddress.Second);

        using var refused = await client.Http.PostAsync(Negotiate, null);
        using var fromElsewhere = await elsewhere.Http.PostAsync(Negotiate, null);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, fromElsewhere.StatusCode);
    }

    [Fact]
    public async Task Negotiate_OverTheGlobalPaceOfNewConnections_Gets429()
    {
        // One new connection a second, none waiting: the upgrade takes this second's turn, the negotiation has none.
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:NewConnectionsPerSecond"] = "1",
            ["SignalRSecure:Protection:NewConnectionBurst"] = "1",
            ["SignalRSecure:Protection:NewConnectionQueueLimit"] = "0",
        });
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        using var client = server.CreateAuthClient(from: LoopbackAddress.Second);

        using var response = await client.Http.PostAsync(Negotiate, null);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.NotEmpty(server.Logs.WithEvent("NewConnectionQueueFull"));
    }
}
