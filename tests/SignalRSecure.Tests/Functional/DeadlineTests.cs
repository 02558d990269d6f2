using System.Diagnostics;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>Wall-clock deadlines of the real server, configured short; each waits for a signal, never a fixed sleep.</summary>
[Collection(TimingSensitive.Name)]
public sealed class DeadlineTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Early = TimeSpan.FromMilliseconds(250);

    // Wall-clock lateness on a busy 2-core machine reaches a few hundred milliseconds; the exact precision of the
    // deadlines is pinned on the fake clock (GateDeadlinesTests, ConnectionGateTests).
    private static readonly TimeSpan Late = TimeSpan.FromMilliseconds(750);

    [Fact]
    public async Task IdleConnection_IsClosedWithAuthenticationTimeout_AtTheDeadline()
    {
        await using var server = await SecureServer.StartAsync(Settings());
        var clock = Stopwatch.StartNew();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        var close = await socket.ReceiveCloseAsync();
        var elapsed = clock.Elapsed;

        Assert.Equal(CloseReasons.AuthenticationTimeout, close.Error);
        Assert.False(close.AllowReconnect);
        Assert.InRange(elapsed, Deadline - Early, Deadline + Late);
    }

    [Fact]
    public async Task Pings_DoNotExtendTheDeadline()
    {
        await using var server = await SecureServer.StartAsync(Settings());
        var clock = Stopwatch.StartNew();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        using var pinging = new CancellationTokenSource();
        // Four pings within the deadline: under the pre-authentication message allowance (8).
        var pinger = PingEveryAsync(socket, TimeSpan.FromMilliseconds(250), pinging.Token);

        var close = await socket.ReceiveCloseAsync();
        var elapsed = clock.Elapsed;
        await pinging.CancelAsync();
        await pinger;

        Assert.Equal(CloseReasons.AuthenticationTimeout, close.Error);
        Assert.InRange(elapsed, Deadline - Early, Deadline + Late);
    }

    [Fact]
    public async Task UpgradeWithoutHandshake_IsClosedByTheDeadline()
    {
        await using var server = await SecureServer.StartAsync(Settings());
        await using var socket = await RawHubSocket.ConnectAsync(server.WebSocketHubUri);

        await socket.WaitForSocketCloseAsync();

        Assert.NotEqual(System.Net.WebSockets.WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task UnauthenticatedConnection_ReceivesNoBroadcast_UntilItIsClosed()
    {
        await using var server = await SecureServer.StartAsync(Settings());
        var aliceTicket = await server.GetTicketAsync(SecureServer.Alice);
        var bobTicket = await server.GetTicketAsync(SecureServer.Bob);
        await using var listener = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var alice = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var bob = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await alice.CallAsync(nameof(IChatHub.Authenticate), aliceTicket);
        await bob.CallAsync(nameof(IChatHub.Authenticate), bobTicket);

        await alice.CallAsync(nameof(IChatHub.Broadcast), "secret");
        var bobsCopy = await bob.ReceiveAsync();

        // ReceiveCloseAsync fails on anything but pings and the close: the broadcast must not reach the listener.
        var close = await listener.ReceiveCloseAsync();
        Assert.Equal("secret", bobsCopy.GetProperty("arguments")[0].GetProperty("text").GetString());
        Assert.Equal(CloseReasons.AuthenticationTimeout, close.Error);
    }

    [Fact]
    public async Task Session_WhenItEnds_ClosesWithSessionExpired()
    {
        await using var server = await SecureServer.StartAsync(Settings(session: TimeSpan.FromSeconds(1)));
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.SessionExpired, close.Error);
        Assert.False(CloseReasons.IsTerminal(close.Error));
    }

    [Fact]
    public async Task Reauthenticate_BeforeTheSessionEnds_MovesTheEnd()
    {
        await using var server = await SecureServer.StartAsync(Settings(session: TimeSpan.FromSeconds(2)));
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        var (auth, _) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        var (reauth, error) = await socket.CallAsync(nameof(IChatHub.Reauthenticate), await server.GetTicketAsync(SecureServer.Alice));

        Assert.Null(error);
        Assert.True(reauth!.Value.GetProperty("expiresAt").GetDateTimeOffset() > auth!.Value.GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Reauthenticate_WithAnotherUsersTicket_ClosesTheConnection()
    {
        await using var server = await SecureServer.StartAsync();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Reauthenticate), await server.GetTicketAsync(SecureServer.Bob));
        var close = await socket.ReceiveCloseAsync();

        Assert.True(HubErrors.TryParse(error, out var parsed));
        Assert.Equal(HubErrors.AuthenticationFailed, parsed);
        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    private static Dictionary<string, string?> Settings(TimeSpan? session = null) => new()
    {
        ["SignalRSecure:Hub:AuthenticationTimeout"] = Deadline.ToString(),
        ["SignalRSecure:Hub:HandshakeTimeout"] = Deadline.ToString(),
        ["SignalRSecure:Hub:SessionLifetime"] = (session ?? TimeSpan.FromHours(1)).ToString(),
    };

    private static async Task PingEveryAsync(RawHubSocket socket, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await socket.SendFrameAsync("""{"type":6}""");
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            // The server closed the socket, or the test stopped pinging.
        }
    }
}
