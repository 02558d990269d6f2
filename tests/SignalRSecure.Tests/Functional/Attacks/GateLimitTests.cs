using System.Net;
using System.Text;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// The pre-authentication byte caps over a real socket, at their boundary: the gate itself closes an oversized
/// handshake or frame, with its reason, well before any deadline could. The handshake and authentication deadlines
/// are 30 s here and every close is awaited for at most 5 s, so SignalR's own timeouts cannot explain a close.
/// </summary>
public sealed class GateLimitTests : IAsyncLifetime
{
    private const int Cap = 2048;
    private const int FailuresBeforeLockout = 3;
    private static readonly TimeSpan FastClose = TimeSpan.FromSeconds(5);
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.41");

    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Hub:AuthenticationTimeout"] = "00:00:30",
        ["SignalRSecure:Hub:HandshakeTimeout"] = "00:00:30",
        ["SignalRSecure:Hub:PreAuthenticationMaximumMessageSize"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = FailuresBeforeLockout.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "100",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Handshake_ExactlyTheCap_IsAnsweredAndTheConnectionAuthenticates()
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(Padded("""{"protocol":"json","version":1,"pad":""", Cap));
        var handshake = await socket.ReceiveAsync().WaitAsync(FastClose);
        var (result, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket).WaitAsync(FastClose);

        Assert.False(handshake.TryGetProperty("error", out _));
        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Handshake_OneByteOverTheCap_IsAbortedByTheGateAtOnce(bool whole)
    {
        await using var socket = await RawHubSocket.ConnectAsync(_server.WebSocketHubUri);
        var handshake = Encoding.UTF8.GetBytes(Padded("""{"protocol":"json","version":1,"pad":""", Cap + 1));

        await socket.SendRawAsync(whole ? [.. handshake, 0x1e] : handshake, endOfMessage: whole);
        await socket.WaitForSocketCloseAsync().WaitAsync(FastClose);

        var violation = await _server.Logs.WaitForAsync(r => r.EventId.Name == "PreAuthenticationViolation", FastClose);
        var closed = await _server.Logs.WaitForAsync(r => r.EventId.Name == "ConnectionClosed", FastClose);
        Assert.Contains("an oversized handshake", violation.Message, StringComparison.Ordinal);
        Assert.EndsWith(CloseReasons.AuthenticationRequired, closed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frame_ExactlyTheCap_IsReadAndTheConnectionAuthenticates()
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(Padded("""{"type":6,"pad":""", Cap));
        var (result, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket).WaitAsync(FastClose);

        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Frame_OneByteOverTheCap_ClosesWithAuthenticationFailedAtOnce(bool whole)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var frame = Encoding.UTF8.GetBytes(Padded("""{"type":6,"pad":""", Cap + 1));

        // Whole: the frame and its separator in one message, so one read holds all of it.
        await socket.SendRawAsync(whole ? [.. frame, 0x1e] : frame, endOfMessage: whole);
        var close = await socket.ReceiveCloseAsync().WaitAsync(FastClose);

        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
        Assert.False(close.AllowReconnect);
        var violation = await _server.Logs.WaitForAsync(r => r.EventId.Name == "PreAuthenticationViolation", FastClose);
        Assert.Contains("an oversized message", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedAuthenticates_FromOneAddress_LockItOut()
    {
        var closes = new List<string?>();
        for (var i = 0; i < FailuresBeforeLockout; i++)
        {
            await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri, from: Attacker);
            await socket.SendFrameAsync("""{"type":1,"invocationId":"1","target":"Authenticate","arguments":["t",42]}""");
            closes.Add((await socket.ReceiveCloseAsync().WaitAsync(FastClose)).Error);
        }

        Assert.All(closes, reason => Assert.Equal(CloseReasons.AuthenticationFailed, reason));
        Assert.Equal(HttpStatusCode.TooManyRequests, await RawHubSocket.TryConnectAsync(_server.WebSocketHubUri, from: Attacker).WaitAsync(FastClose));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await RawHubSocket.TryConnectAsync(_server.WebSocketHubUri).WaitAsync(FastClose));
        Assert.Single(_server.Logs.WithEvent("AddressLockedOut"));
        Assert.Equal(FailuresBeforeLockout, _server.Logs.WithEvent("PreAuthenticationViolation").Count());
    }

    [Fact]
    public async Task Revoke_ClientThatIgnoresTheCloseMessage_IsCutOff()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        using var client = _server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);
        Assert.Null((await socket.CallAsync(nameof(IChatHub.Authenticate), (await client.GetTicketAsync()).Ticket)).Error);

        // The raw socket never answers the close message nor closes its side: the server must end the socket itself.
        await client.LogoutAsync();
        var messages = await socket.ReceiveUntilSocketClosesAsync().WaitAsync(FastClose);

        var close = Assert.Single(messages);
        Assert.Equal(CloseReasons.LoggedOut, close.GetProperty("error").GetString());
    }

    /// <summary>A JSON object of exactly <paramref name="length"/> bytes: <paramref name="start"/> padded inside a string.</summary>
    private static string Padded(string start, int length)
    {
        var text = start + "\"" + new string('x', length - start.Length - 3) + "\"}";
        Assert.Equal(length, Encoding.UTF8.GetByteCount(text));
        return text;
    }
}
