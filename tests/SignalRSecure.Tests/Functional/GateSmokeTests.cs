using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class GateSmokeTests
{
    [Fact]
    public async Task Authenticate_WithFreshTicket_ThenEchoWorks()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var (auth, authError) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var (echo, echoError) = await socket.CallAsync(nameof(IChatHub.Echo), "hello");

        Assert.Null(authError);
        Assert.Equal("alice", auth!.Value.GetProperty("user").GetString());
        Assert.Null(echoError);
        Assert.Equal("hello", echo!.Value.GetString());
    }

    [Fact]
    public async Task Echo_BeforeAuthenticate_ClosesWithAuthenticationRequired()
    {
        await using var server = await SecureServer.StartAsync();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        await socket.InvokeAsync(nameof(IChatHub.Echo), "hello");
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationRequired, close.Error);
        Assert.False(close.AllowReconnect);
    }
}
