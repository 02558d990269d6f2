using System.Text;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>Every frame counts: pings before authentication against a fixed allowance, after it against the message rate.</summary>
public sealed class PingFloodTests : IAsyncLifetime
{
    private const string Ping = """{"type":6}""";
    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "100",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PingsBeforeAuthenticate_BeyondTheAllowance_CloseWithAuthenticationRequired()
    {
        var connections = new List<RawHubSocket>();
        try
        {
            // The attack: the per-IP cap of unauthenticated connections, each sending nothing but pings.
            for (var i = 0; i < 20; i++)
            {
                connections.Add(await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri));
            }

            var closes = await Task.WhenAll(connections.Select(async socket =>
            {
                await socket.SendRawAsync(Frames(Ping, SecureHubOptions.DefaultPreAuthenticationMaximumMessages + 1));
                return await socket.ReceiveCloseAsync();
            }));

            Assert.All(closes, close => Assert.Equal(CloseReasons.AuthenticationRequired, close.Error));
        }
        finally
        {
            foreach (var socket in connections)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task PingsBeforeAuthenticate_UpToTheAllowance_LeaveRoomForAuthenticate()
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        // Seven pings and the Authenticate: exactly the eight messages allowed.
        await socket.SendRawAsync(Frames(Ping, SecureHubOptions.DefaultPreAuthenticationMaximumMessages - 1));
        var (result, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }

    [Fact]
    public async Task PingsBeforeAuthenticate_OneOverTheAllowance_RefuseTheAuthenticate()
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendRawAsync(Frames(Ping, SecureHubOptions.DefaultPreAuthenticationMaximumMessages));
        await socket.InvokeAsync(nameof(IChatHub.Authenticate), ticket);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationRequired, close.Error);
    }

    [Fact]
    public async Task PingFlood_AfterAuthenticate_ClosesWithRateLimited()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));

        await socket.SendRawAsync(Frames(Ping, SecureHubOptions.DefaultMessageBurst + 1));
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.RateLimited, close.Error);
        Assert.True(close.AllowReconnect);
        Assert.Contains(_server.Logs.Records, record => record.EventId.Name == "MessagesRefused");
    }

    [Fact]
    public async Task Pings_WithinTheMessageRate_NeverCloseTheConnection()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));

        // As many pings as the burst allows, far more than a keep-alive (one per 15 s) ever sends, then a call.
        await socket.SendRawAsync(Frames(Ping, SecureHubOptions.DefaultMessageBurst - 1));
        var (echo, error) = await socket.CallAsync(nameof(IChatHub.Echo), "still here");

        Assert.Null(error);
        Assert.Equal("still here", echo!.Value.GetString());
    }

    private static byte[] Frames(string frame, int count) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(frame + RawHubSocket.RecordSeparator, count)));
}
