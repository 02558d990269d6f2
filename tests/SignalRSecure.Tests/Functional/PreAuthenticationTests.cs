using System.Net.WebSockets;
using System.Text;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>Every kind of message a connection may send before Authenticate, over a raw socket against the real server.</summary>
public sealed class PreAuthenticationTests : IAsyncLifetime
{
    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "100",
        ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string> MessagesThatRequireAuthentication => new()
    {
        """{"type":1,"invocationId":"1","target":"Echo","arguments":["hi"]}""",
        """{"type":1,"invocationId":"1","target":"Broadcast","arguments":["hi"]}""",
        """{"type":1,"invocationId":"1","target":"JoinGroup","arguments":["general"]}""",
        """{"type":1,"invocationId":"1","target":"LeaveGroup","arguments":["general"]}""",
        """{"type":1,"invocationId":"1","target":"SendToGroup","arguments":["general","hi"]}""",
        """{"type":1,"invocationId":"1","target":"GetGroupMembers","arguments":["general"]}""",
        """{"type":1,"invocationId":"1","target":"Reauthenticate","arguments":["x"]}""",
        """{"type":1,"invocationId":"1","target":"NoSuchMethod","arguments":[]}""",
        """{"type":1,"target":"Echo","arguments":["fire and forget"]}""",
        """{"type":4,"invocationId":"1","target":"Echo","arguments":["hi"]}""",
        """{"type":4,"invocationId":"1","target":"Authenticate","arguments":["x"]}""",
        """{"type":2,"invocationId":"1","item":"x"}""",
        """{"type":3,"invocationId":"1","result":"x"}""",
        """{"type":5,"invocationId":"1"}""",
        """{"type":8,"sequenceId":1}""",
        """{"type":42}""",
        """{"type":1,"invocationId":"1","target":"Echo","arguments":[[[[[[[[[["deep"]]]]]]]]]]}""",
        "not json at all",
        """{"type":1,"invocationId":"1","target":"Echo",""",
    };

    [Theory]
    [MemberData(nameof(MessagesThatRequireAuthentication))]
    public async Task Message_BeforeAuthenticate_ClosesWithAuthenticationRequired(string frame)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(frame);
        var close = await socket.ReceiveCloseAsync();

        Assert.True(close.ReceivedCloseMessage);
        Assert.Equal(CloseReasons.AuthenticationRequired, close.Error);
        Assert.False(close.AllowReconnect);
    }

    public static TheoryData<string> MalformedAuthenticates => new()
    {
        """{"type":1,"invocationId":"1","target":"Authenticate","arguments":[]}""",
        """{"type":1,"invocationId":"1","target":"Authenticate","arguments":[null]}""",
        """{"type":1,"invocationId":"1","target":"Authenticate","arguments":[12345]}""",
        """{"type":1,"invocationId":"1","target":"Authenticate","arguments":["a","b"]}""",
        """{"type":1,"invocationId":"1","target":"Authenticate","arguments":[{"user":"alice","admin":true}]}""",
    };

    [Theory]
    [MemberData(nameof(MalformedAuthenticates))]
    public async Task Authenticate_MalformedArguments_ClosesWithAuthenticationFailed(string frame)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(frame);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("random-garbage")]
    [InlineData("0000000000000000000000000000000000000000000")]
    public async Task Authenticate_BadTicket_ErrorsGenericallyThenCloses(string ticket)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(HubErrors.AuthenticationFailed, HubErrors.TryParse(error, out var parsed) ? parsed : error);
        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    [Fact]
    public async Task Authenticate_OneMegabyteTicket_IsRefusedUnreadByThePreAuthenticationCap()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync($$"""{"type":1,"invocationId":"1","target":"Authenticate","arguments":["{{new string('A', 1024 * 1024)}}"]}""");
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    [Fact]
    public async Task Message_OverTwoKilobytesBeforeAuthenticate_ClosesWithoutWaitingForItsEnd()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        // No record separator and no end of message: the server must not wait for the rest.
        await socket.SendRawAsync(Encoding.UTF8.GetBytes("{\"type\":1,\"target\":\"Echo\",\"arguments\":[\"" + new string('x', 4096)), endOfMessage: false);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    [Fact]
    public async Task BinaryFrame_BeforeAuthenticate_ClosesWithAuthenticationRequired()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendRawAsync([0x01, 0x02, 0x03, 0x1e], WebSocketMessageType.Binary);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationRequired, close.Error);
    }

    [Fact]
    public async Task InvalidUtf8TextFrame_BeforeAuthenticate_IsClosedByTheWebSocketLayer()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendRawAsync([.. Encoding.UTF8.GetBytes("{\"type\":1,\"invocationId\":\"1\",\"target\":\"Authenticate\",\"arguments\":[\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"]}\u001e")]);
        var close = await socket.ReceiveCloseAsync();

        // Kestrel's WebSocket refuses invalid UTF-8 in a text message (close 1007) before SignalR or the gate sees it.
        Assert.False(close.ReceivedCloseMessage);
    }

    [Fact]
    public async Task Echo_PipelinedRightAfterAuthenticate_RunsAsTheAuthenticatedUser()
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        // Both frames in one WebSocket message: the gate must hold Echo until Authenticate has settled.
        await socket.SendFrameAsync(
            $$"""{"type":1,"invocationId":"a","target":"Authenticate","arguments":["{{ticket}}"]}""" + RawHubSocket.RecordSeparator +
            """{"type":1,"invocationId":"e","target":"Echo","arguments":["after"]}""");
        var first = await socket.ReceiveAsync();
        var second = await socket.ReceiveAsync();

        Assert.Equal("a", first.GetProperty("invocationId").GetString());
        Assert.False(first.TryGetProperty("error", out _));
        Assert.Equal("after", second.GetProperty("result").GetString());
    }

    [Theory]
    [InlineData("""{"type":1,"invocationId":"e","target":"Echo","arguments":["after"]}""")]
    [InlineData("""{"type":1,"invocationId":"b","target":"Authenticate","arguments":["second"]}""")]
    public async Task Frame_PipelinedRightAfterAFailedAuthenticate_NeverRuns(string follower)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(
            """{"type":6}""" + RawHubSocket.RecordSeparator +
            """{"type":1,"invocationId":"a","target":"Authenticate","arguments":["bad"]}""" + RawHubSocket.RecordSeparator +
            follower);
        var reply = await socket.ReceiveAsync();
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal("a", reply.GetProperty("invocationId").GetString());
        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    [Fact]
    public async Task Authenticate_AfterAuthenticating_ErrorsAlreadyAuthenticatedAndKeepsTheConnection()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Bob));
        var (echo, _) = await socket.CallAsync(nameof(IChatHub.Echo), "still alice");

        Assert.True(HubErrors.TryParse(error, out var parsed));
        Assert.Equal(HubErrors.AlreadyAuthenticated, parsed);
        Assert.Equal("still alice", echo!.Value.GetString());
    }

    [Fact]
    public async Task Handshake_UnknownProtocol_IsRefused()
    {
        await using var socket = await RawHubSocket.ConnectAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync("""{"protocol":"messagepack","version":1}""");
        var response = await socket.ReceiveAsync();

        Assert.True(response.TryGetProperty("error", out _));
        await socket.WaitForSocketCloseAsync();
    }

    [Fact]
    public async Task Handshake_OverTheCapWithoutSeparator_ClosesTheSocket()
    {
        await using var socket = await RawHubSocket.ConnectAsync(_server.WebSocketHubUri);

        await socket.SendRawAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1,\"pad\":\"" + new string('x', 4096)), endOfMessage: false);

        await socket.WaitForSocketCloseAsync();
        Assert.NotEqual(WebSocketState.Open, socket.State);
    }
}
