using System.Text;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>Handshake variants, and garbage from an authenticated client: each hurts only its own connection.</summary>
public sealed class HostileProtocolTests : IAsyncLifetime
{
    private SecureServer _server = null!;
    private RawHubSocket _probe = null!;

    public async Task InitializeAsync()
    {
        _server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:AuthenticationTimeout"] = "00:00:02",
            ["SignalRSecure:Hub:HandshakeTimeout"] = "00:00:01",
            ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000",
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "1000",
            ["SignalRSecure:Hub:InvocationBurst"] = "1000",
            ["SignalRSecure:Hub:MessagesPerSecond"] = "1000",
            ["SignalRSecure:Hub:MessageBurst"] = "2000",
            ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "1000",
            ["SignalRSecure:Hub:UserInvocationBurst"] = "1000",
        });
        _probe = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri, from: LoopbackAddress.Second);
        await _probe.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Bob, from: LoopbackAddress.Second));
    }

    public async Task DisposeAsync()
    {
        await _probe.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("""{"protocol":"json","version":99}""")]
    [InlineData("""{"protocol":"messagepack","version":1}""")]
    [InlineData("""{"protocol":"json"}""")]
    [InlineData("""not json""")]
    [InlineData("""{"type":1,"invocationId":"1","target":"Echo","arguments":["before the handshake"]}""")]
    public async Task Handshake_Invalid_IsAnsweredWithAnErrorAndClosed(string handshake)
    {
        await using var socket = await RawHubSocket.ConnectAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(handshake);
        var response = await socket.ReceiveAsync();

        Assert.True(response.TryGetProperty("error", out _));
        await socket.WaitForSocketCloseAsync();
        await AssertProbeHealthyAsync();
    }

    [Fact]
    public async Task Handshake_WithoutRecordSeparator_IsClosedByTheHandshakeTimeout()
    {
        await using var socket = await RawHubSocket.ConnectAsync(_server.WebSocketHubUri);

        await socket.SendRawAsync(Encoding.UTF8.GetBytes("""{"protocol":"json","version":1}"""));

        await socket.WaitForSocketCloseAsync();
        await AssertProbeHealthyAsync();
    }

    [Fact]
    public async Task Handshake_SentTwice_ClosesWithAuthenticationRequired()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync("""{"protocol":"json","version":1}""");

        Assert.Equal(CloseReasons.AuthenticationRequired, (await socket.ReceiveCloseAsync()).Error);
    }

    public static TheoryData<string> AuthenticatedGarbage => new()
    {
        "not json",
        """{"type":1,"invocationId":"1","target":"Echo",""",
        """{"type":3,"invocationId":"no-such-invocation","result":1}""",
        """{"type":2,"invocationId":"no-such-stream","item":1}""",
        """{"type":5,"invocationId":"no-such-invocation"}""",
        """{"type":1,"invocationId":"1","target":"Echo","arguments":[42]}""",
        """{"type":1,"invocationId":"1","target":"Echo","arguments":["a","b"]}""",
        """{"type":1,"invocationId":"1","target":"Echo","arguments":[]}""",
        """{"type":1,"invocationId":"1","target":"JoinGroup","arguments":[{"group":"ops"}]}""",
        """{"type":1,"invocationId":"1","target":"NoSuchMethod","arguments":[]}""",
        """{"type":4,"invocationId":"1","target":"Echo","arguments":["x"]}""",
    };

    [Theory]
    [MemberData(nameof(AuthenticatedGarbage))]
    public async Task Garbage_FromAnAuthenticatedClient_ClosesOrErrorsOnlyThatConnection(string frame)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));

        await socket.SendFrameAsync(frame);
        await socket.SendFrameAsync("""{"type":1,"invocationId":"after","target":"Echo","arguments":["still here"]}""");
        var outcome = await FirstCompletionOrCloseAsync(socket, "after");

        Assert.True(outcome is "still here" or "closed", outcome);
        await AssertProbeHealthyAsync();
    }

    [Fact]
    public async Task UnknownMessageType_FromAnAuthenticatedClient_StallsOnlyItsConnection_WhichLogoutStillCloses()
    {
        using var alice = _server.CreateAuthClient();
        await alice.LoginAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), (await alice.GetTicketAsync()).Ticket);

        // SignalR skips unknown types but then stops parsing that connection's input: a self-inflicted stall.
        await socket.SendFrameAsync("""{"type":42}""");
        await AssertProbeHealthyAsync();
        using var logout = await alice.LogoutAsync();

        Assert.Equal(CloseReasons.LoggedOut, (await socket.ReceiveCloseAsync()).Error);
    }

    [Fact]
    public async Task InvocationIds_HugeOrDuplicated_AreAnsweredEachTime()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));
        var hugeId = new string('9', 20_000);

        await socket.SendFrameAsync($$"""{"type":1,"invocationId":"{{hugeId}}","target":"Echo","arguments":["huge"]}""");
        var huge = await socket.ReceiveAsync();
        await socket.SendFrameAsync("""{"type":1,"invocationId":"dup","target":"Echo","arguments":["one"]}""");
        await socket.SendFrameAsync("""{"type":1,"invocationId":"dup","target":"Echo","arguments":["two"]}""");
        var first = await socket.ReceiveAsync();
        var second = await socket.ReceiveAsync();

        Assert.Equal(hugeId, huge.GetProperty("invocationId").GetString());
        Assert.Equal("one", first.GetProperty("result").GetString());
        Assert.Equal("two", second.GetProperty("result").GetString());
        await AssertProbeHealthyAsync();
    }

    private async Task AssertProbeHealthyAsync()
    {
        var (echo, error) = await _probe.CallAsync(nameof(IChatHub.Echo), "probe");
        Assert.Null(error);
        Assert.Equal("probe", echo!.Value.GetString());
    }

    private static async Task<string> FirstCompletionOrCloseAsync(RawHubSocket socket, string invocationId)
    {
        while (true)
        {
            System.Text.Json.JsonElement message;
            try
            {
                message = await socket.ReceiveAsync();
            }
            catch (InvalidOperationException)
            {
                return "closed";
            }

            switch (message.GetProperty("type").GetInt32())
            {
                case 7:
                    return "closed";
                case 3 when message.GetProperty("invocationId").GetString() == invocationId:
                    return message.GetProperty("result").GetString()!;
            }
        }
    }
}
