using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class TicketRedemptionTests
{
    private const string OriginA = "http://app-a.example";
    private const string OriginB = "http://app-b.example";

    [Fact]
    public async Task Ticket_ReplayedOnASecondConnection_Fails()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        await using var first = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var second = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var (_, firstError) = await first.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var (_, secondError) = await second.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(firstError);
        Assert.True(HubErrors.TryParse(secondError, out var parsed));
        Assert.Equal(HubErrors.AuthenticationFailed, parsed);
        Assert.Equal(CloseReasons.AuthenticationFailed, (await second.ReceiveCloseAsync()).Error);
    }

    [Fact]
    public async Task Ticket_FiftyConnectionsRedeemingItAtOnce_ExactlyOneWins()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "60",
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "100",
        });
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        var sockets = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri)));
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = sockets.Select(async socket =>
            {
                await start.Task;
                return await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
            }).ToArray();

            start.SetResult();
            var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(1, results.Count(r => r.Error is null));
            Assert.Equal(49, results.Count(r => HubErrors.TryParse(r.Error, out var e) && e == HubErrors.AuthenticationFailed));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Ticket_MintedFromAnotherIp_Fails()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await server.GetTicketAsync(SecureServer.Alice, from: LoopbackAddress.Second);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.NotNull(error);
    }

    [Fact]
    public async Task Ticket_MintedFromTheSameSecondIp_Succeeds()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await server.GetTicketAsync(SecureServer.Alice, from: LoopbackAddress.Second);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, from: LoopbackAddress.Second);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(error);
    }

    [Fact]
    public async Task Ticket_MintedFromAnotherIp_SucceedsWhenIpBindingIsOff()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Tickets:BindToClientIp"] = "false" });
        var ticket = await server.GetTicketAsync(SecureServer.Alice, from: LoopbackAddress.Second);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(error);
    }

    [Theory]
    [InlineData(OriginB, false)]
    [InlineData(null, false)]
    [InlineData(OriginA, true)]
    public async Task Ticket_MintedForOriginA_IsValidOnlyFromOriginA(string? redeemFrom, bool succeeds)
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:AllowedOrigins:0"] = OriginA,
            ["SignalRSecure:Protection:AllowedOrigins:1"] = OriginB,
        });
        var ticket = await server.GetTicketAsync(SecureServer.Alice, origin: OriginA);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, origin: redeemFrom);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Equal(succeeds, error is null);
    }

    [Fact]
    public async Task Identity_SmuggledInArguments_IsIgnored()
    {
        await using var server = await SecureServer.StartAsync();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Bob));

        var (_, joinError) = await socket.CallAsync(nameof(IChatHub.JoinGroup), "ops");
        await socket.CallAsync(nameof(IChatHub.JoinGroup), "general");
        await socket.SendFrameAsync("""{"type":1,"invocationId":"x","target":"SendToGroup","arguments":["general","hi"],"headers":{"user":"alice"}}""");
        var message = await socket.ReceiveAsync();

        Assert.True(HubErrors.TryParse(joinError, out var parsed));
        Assert.Equal(HubErrors.Forbidden, parsed);
        Assert.Equal("bob", message.GetProperty("arguments")[0].GetProperty("from").GetString());
    }
}
