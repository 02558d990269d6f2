using System.Net;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// A node whose Redis dies mid-test and comes back on the same port: what is established stays up, what needs Redis
/// fails closed with the documented retryable answers, and everything works again without a restart.
/// </summary>
public sealed class RedisOutageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Redis_DownThenBack_EstablishedConnectionsStayUpAndNewOnesWaitForIt()
    {
        // Arrange: a Redis of this test's own (it is killed), short client timeouts so that a dead Redis fails fast.
        await using var redis = await RedisServer.StartAsync();
        await using var node = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Redis:Configuration"] = $"{redis.Configuration},connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000",
            ["SignalRSecure:Redis:ChannelPrefix"] = RedisFixture.UniquePrefix(),
        });
        var established = await AuthenticatedAsync(node, await node.GetTicketAsync(SecureServer.Alice));
        await using var _ = established;
        var ticketBeforeOutage = await node.GetTicketAsync(SecureServer.Bob);

        // Act: Redis dies.
        await redis.StopAsync();
        var (echo, echoError) = await established.CallAsync(nameof(IChatHub.Echo), "during").WaitAsync(Timeout);
        await using var newcomer = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        var (_, authenticateError) = await newcomer.CallAsync(nameof(IChatHub.Authenticate), ticketBeforeOutage).WaitAsync(Timeout);
        var close = await newcomer.ReceiveCloseAsync().WaitAsync(Timeout);
        using var client = node.CreateAuthClient();
        using var login = await client.TryLoginAsync(SecureServer.Carol.Name, SecureServer.Carol.Password).WaitAsync(Timeout);
        var loginBody = await login.Content.ReadAsStringAsync();

        // Assert: the established connection echoes; Authenticate and login fail closed, retryable, without Redis text.
        Assert.Null(echoError);
        Assert.Equal("during", echo?.GetString());
        Assert.True(HubErrors.TryParse(authenticateError, out var parsed));
        Assert.Equal(HubErrors.Unavailable, parsed);
        Assert.Equal(CloseReasons.Unavailable, close.Error);
        Assert.True(close.AllowReconnect);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, login.StatusCode);
        Assert.NotNull(login.Headers.RetryAfter);
        Assert.Contains(HubErrors.Unavailable, loginBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Redis", loginBody, StringComparison.OrdinalIgnoreCase);

        // Act: Redis comes back (empty: no persistence in tests); the client reconnects by itself, so logins are
        // retried until the first one passes, as a client honouring Retry-After would.
        await redis.StartAgainAsync();
        var ticket = await RetryUntilUpAsync(() => node.GetTicketAsync(SecureServer.Carol));
        await using var afterwards = await AuthenticatedAsync(node, ticket);
        var (echoAfter, _) = await established.CallAsync(nameof(IChatHub.Echo), "after").WaitAsync(Timeout);

        // Assert
        Assert.Equal("after", echoAfter?.GetString());
    }

    [Fact]
    public async Task Redis_DownThenBack_SharedCountersAndRosterFailClosedAndRecover()
    {
        // Arrange: alice connected and in "general"; a lockout of 2 failures, to see it counted after Redis returns.
        await using var redis = await RedisServer.StartAsync();
        await using var node = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Redis:Configuration"] = $"{redis.Configuration},connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000",
            ["SignalRSecure:Redis:ChannelPrefix"] = RedisFixture.UniquePrefix(),
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "2",
        });
        await using var alice = await AuthenticatedAsync(node, await node.GetTicketAsync(SecureServer.Alice));
        Assert.Null((await alice.CallAsync(nameof(IChatHub.JoinGroup), "general").WaitAsync(Timeout)).Error);

        // Act: Redis dies; the established connection keeps calling (its user budget falls back to the node's own).
        await redis.StopAsync();
        var echoes = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            echoes.Add((await alice.CallAsync(nameof(IChatHub.Echo), "during").WaitAsync(Timeout)).Error);
        }

        var (_, joinError) = await alice.CallAsync(nameof(IChatHub.JoinGroup), "ops").WaitAsync(Timeout);
        await using var wrong = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        var (_, wrongError) = await wrong.CallAsync(nameof(IChatHub.Authenticate), "wrong-ticket-0123456789abcdefghijklmnopqrstu").WaitAsync(Timeout);

        // Assert: calls pass, the roster and the lockout fail closed and retryable.
        Assert.All(echoes, Assert.Null);
        Assert.True(HubErrors.TryParse(joinError, out var parsedJoin));
        Assert.Equal(HubErrors.Unavailable, parsedJoin);
        Assert.True(HubErrors.TryParse(wrongError, out var parsedWrong));
        Assert.Equal(HubErrors.Unavailable, parsedWrong);

        // Act: Redis comes back empty; the roster and the lockout count again.
        await redis.StartAgainAsync();
        var ticket = await RetryUntilUpAsync(() => node.GetTicketAsync(SecureServer.Bob));
        await using var bob = await AuthenticatedAsync(node, ticket);
        Assert.Null((await bob.CallAsync(nameof(IChatHub.JoinGroup), "general").WaitAsync(Timeout)).Error);
        var (members, membersError) = await bob.CallAsync(nameof(IChatHub.GetGroupMembers), "general").WaitAsync(Timeout);
        for (var i = 0; i < 2; i++)
        {
            await using var attacker = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
            await attacker.CallAsync(nameof(IChatHub.Authenticate), $"wrong-ticket-{i}-0123456789abcdefghijklmnopqrst").WaitAsync(Timeout);
        }

        // Assert: bob is listed (alice's entry went with Redis's data); two failures lock the address out.
        Assert.Null(membersError);
        Assert.Equal(["bob"], members!.Value.EnumerateArray().Select(user => user.GetString()));
        Assert.Equal(HttpStatusCode.TooManyRequests, await RawHubSocket.TryConnectAsync(node.WebSocketHubUri));
    }

    private static async Task<string> RetryUntilUpAsync(Func<Task<string>> attempt)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await attempt().WaitAsync(Timeout);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // 503 while the Redis client has not reconnected yet; Retry-After would say 5 s, a test polls faster.
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    private static async Task<RawHubSocket> AuthenticatedAsync(SecureServer node, string ticket)
    {
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket).WaitAsync(Timeout);
        Assert.Null(error);
        return socket;
    }
}
