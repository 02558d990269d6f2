using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;
using static SignalRSecure.Tests.Infrastructure.MessagePackFrame;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// The frame-reading attacks in MessagePack: frames SignalR would read differently from the gate, or fail on with its
/// own generic error, sent before authentication with a real ticket. The gate must close each itself, in MessagePack,
/// with its documented reason, before SignalR reads it; the ticket stays unspent. The protocol-neutral attacks
/// (pipelining, the message allowance, the size caps, the message meter) run for both protocols.
/// </summary>
public sealed class MessagePackFrameReadingTests : IAsyncLifetime
{
    private static readonly object?[] None = [];

    // Each builds a whole binary message (frames with their prefixes) around the ticket.
    private static readonly Dictionary<string, Func<string, byte[]>> Attacks = new()
    {
        ["ping with an extra item"] = _ => Frame(Message(6, "x")),
        ["ping, then a byte inside its frame"] = _ => Frame([.. Message(6), 0xc0]),
        ["close without its error"] = _ => Frame(Message(7)),
        ["close with a numeric error"] = _ => Frame(Message(7, 5)),
        ["close with a string allowReconnect"] = _ => Frame(Message(7, "bye", "yes")),
        ["type nil"] = _ => Frame(Message([null])),
        ["type as float"] = _ => Frame([0x91, 0xcb, 0x40, 0x18, 0, 0, 0, 0, 0, 0]),
        ["empty payload"] = _ => Frame([]),
        ["a map instead of an array"] = _ => Frame(Pack(new Map { { "type", 6 } })),
        ["overlong length prefix"] = _ => [0x82, 0x00, .. Message(6)],
        ["length prefix over 2 GB"] = _ => [0xff, 0xff, 0xff, 0xff, 0x0f, .. Message(6)],
        ["six-byte length prefix"] = _ => [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        ["echo"] = _ => Invocation("1", nameof(IChatHub.Echo), "hi"),
        ["invocation without a target"] = ticket => Frame(Message(1, new Map(), "1")),
        ["stream invocation of Authenticate"] = ticket => Frame(Message(4, new Map(), "1", "Authenticate", new object?[] { ticket }, None)),
        ["completion"] = _ => Frame(Message(3, new Map(), "1", 3, "x")),
        ["ack"] = _ => Frame(Message(8, 1L)),
        ["Authenticate, trailing byte inside its frame"] = ticket => Frame([.. Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }, None), 0x90]),
        ["Authenticate, truncated"] = ticket => Frame(Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }, None)[..^1]),
        ["Authenticate, nil invocation id"] = ticket => Frame(Message(1, new Map(), null, "Authenticate", new object?[] { ticket }, None)),
        ["Authenticate, numeric invocation id"] = ticket => Frame(Message(1, new Map(), 5, "Authenticate", new object?[] { ticket }, None)),
        ["Authenticate, a stream"] = ticket => Frame(Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }, new object?[] { "1" })),
        ["Authenticate, streams a string"] = ticket => Frame(Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }, "abc")),
        ["Authenticate, numeric header"] = ticket => Frame(Message(1, new Map { { "a", 1 } }, "1", "Authenticate", new object?[] { ticket }, None)),
        ["Authenticate, header twice"] = ticket => Frame(Message(1, new Map { { "a", "b" }, { "a", "c" } }, "1", "Authenticate", new object?[] { ticket }, None)),
        ["Authenticate, headers an array"] = ticket => Frame(Message(1, None, "1", "Authenticate", new object?[] { ticket }, None)),
        ["Authenticate, a second argument"] = ticket => Frame(Message(1, new Map(), "1", "Authenticate", new object?[] { ticket, 42 }, None)),
        ["Authenticate, the ticket as binary"] = ticket => Frame(Message(1, new Map(), "1", "Authenticate", new object?[] { System.Text.Encoding.UTF8.GetBytes(ticket) }, None)),
        ["Authenticate, seven items"] = ticket => Frame(Message(1, new Map(), "1", "Authenticate", new object?[] { ticket }, None, "x")),
    };

    private SecureServer _server = null!;

    public static TheoryData<string, string> AttackCases => new()
    {
        { "ping with an extra item", CloseReasons.AuthenticationRequired },
        { "ping, then a byte inside its frame", CloseReasons.AuthenticationRequired },
        { "close without its error", CloseReasons.AuthenticationRequired },
        { "close with a numeric error", CloseReasons.AuthenticationRequired },
        { "close with a string allowReconnect", CloseReasons.AuthenticationRequired },
        { "type nil", CloseReasons.AuthenticationRequired },
        { "type as float", CloseReasons.AuthenticationRequired },
        { "empty payload", CloseReasons.AuthenticationRequired },
        { "a map instead of an array", CloseReasons.AuthenticationRequired },
        { "overlong length prefix", CloseReasons.AuthenticationRequired },
        { "length prefix over 2 GB", CloseReasons.AuthenticationRequired },
        { "six-byte length prefix", CloseReasons.AuthenticationRequired },
        { "echo", CloseReasons.AuthenticationRequired },
        { "invocation without a target", CloseReasons.AuthenticationRequired },
        { "stream invocation of Authenticate", CloseReasons.AuthenticationRequired },
        { "completion", CloseReasons.AuthenticationRequired },
        { "ack", CloseReasons.AuthenticationRequired },
        { "Authenticate, trailing byte inside its frame", CloseReasons.AuthenticationRequired },
        { "Authenticate, truncated", CloseReasons.AuthenticationRequired },
        { "Authenticate, nil invocation id", CloseReasons.AuthenticationFailed },
        { "Authenticate, numeric invocation id", CloseReasons.AuthenticationFailed },
        { "Authenticate, a stream", CloseReasons.AuthenticationFailed },
        { "Authenticate, streams a string", CloseReasons.AuthenticationFailed },
        { "Authenticate, numeric header", CloseReasons.AuthenticationFailed },
        { "Authenticate, header twice", CloseReasons.AuthenticationFailed },
        { "Authenticate, headers an array", CloseReasons.AuthenticationFailed },
        { "Authenticate, a second argument", CloseReasons.AuthenticationFailed },
        { "Authenticate, the ticket as binary", CloseReasons.AuthenticationFailed },
        { "Authenticate, seven items", CloseReasons.AuthenticationFailed },
    };

    public static TheoryData<string> Protocols => new() { RawHubSocket.JsonProtocol, ProtocolName };

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Hub:Protocols"] = "json,messagepack",
        ["SignalRSecure:Hub:MaximumReceiveMessageSize"] = "4096",
        ["SignalRSecure:Hub:MessagesPerSecond"] = "30",
        ["SignalRSecure:Hub:MessageBurst"] = "90",
        ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "100",
        ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [MemberData(nameof(AttackCases))]
    public async Task Frame_ThatSignalRWouldReadDifferently_IsClosedByTheGateInMessagePack(string attack, string reason)
    {
        // A real ticket: had the frame reached SignalR, the ticket would have been spent (or the connection would hang).
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await ConnectAsync(ProtocolName);
        var failuresBefore = FailureRecords();

        await socket.SendBinaryAsync(Attacks[attack](ticket));
        var messages = await socket.ReceiveUntilSocketClosesAsync();

        // One close, decoded from MessagePack: the gate's, never SignalR's generic error.
        var close = Assert.Single(messages);
        Assert.Equal(7, close.GetProperty("type").GetInt32());
        Assert.Equal(reason, close.GetProperty("error").GetString());
        Assert.Equal(!CloseReasons.IsTerminal(reason), close.GetProperty("allowReconnect").GetBoolean());
        Assert.Contains(_server.Logs.Records, record => record.EventId.Name == "PreAuthenticationViolation");
        Assert.Equal(failuresBefore + (reason == CloseReasons.AuthenticationFailed ? 1 : 0), FailureRecords());
        await AssertTicketStillRedeemableAsync(ticket);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Echo_PipelinedRightAfterAuthenticate_RunsAsTheAuthenticatedUser(string protocol)
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await ConnectAsync(protocol);

        // A ping, the Authenticate and an Echo in one WebSocket message: the gate holds Echo until Authenticate settles.
        await socket.SendEncodedAsync(
            socket.EncodePing(),
            socket.EncodeInvocation("a", nameof(IChatHub.Authenticate), ticket),
            socket.EncodeInvocation("e", nameof(IChatHub.Echo), "after"));
        var first = await socket.ReceiveAsync();
        var second = await socket.ReceiveAsync();

        Assert.Equal("a", first.GetProperty("invocationId").GetString());
        Assert.False(first.TryGetProperty("error", out _));
        Assert.Equal("after", second.GetProperty("result").GetString());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Frame_PipelinedRightAfterAFailedAuthenticate_NeverRuns(string protocol)
    {
        await using var socket = await ConnectAsync(protocol);

        await socket.SendEncodedAsync(
            socket.EncodeInvocation("a", nameof(IChatHub.Authenticate), "bad"),
            socket.EncodeInvocation("e", nameof(IChatHub.Echo), "after"));
        var messages = await socket.ReceiveUntilSocketClosesAsync();

        Assert.Equal(2, messages.Count);
        Assert.Equal("a", messages[0].GetProperty("invocationId").GetString());
        Assert.Equal(CloseReasons.AuthenticationFailed, messages[1].GetProperty("error").GetString());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PingsBeforeAuthenticate_UpToTheAllowance_LeaveRoomForAuthenticate_OneMoreRefusesIt(string protocol)
    {
        await using var within = await ConnectAsync(protocol);
        await using var over = await ConnectAsync(protocol);
        var pings = Enumerable.Repeat(within.EncodePing(), SecureHubOptions.DefaultPreAuthenticationMaximumMessages - 1).ToArray();

        await within.SendEncodedAsync([.. pings, within.EncodeInvocation("a", nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice))]);
        await over.SendEncodedAsync([.. pings, over.EncodePing(), over.EncodeInvocation("a", nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Bob))]);
        var answer = await within.ReceiveAsync();
        var refused = await over.ReceiveCloseAsync();

        Assert.False(answer.TryGetProperty("error", out _));
        Assert.Equal("alice", answer.GetProperty("result").GetProperty("user").GetString());
        Assert.Equal(CloseReasons.AuthenticationRequired, refused.Error);
    }

    [Fact]
    public async Task FrameAnnouncingMoreThanTwoKilobytes_BeforeAuthenticate_ClosesBeforeItsBytesArrive()
    {
        var failuresBefore = FailureRecords();
        await using var socket = await ConnectAsync(ProtocolName);

        // Only the prefix and the start of the frame, in an unfinished WebSocket message: the server must not wait.
        await socket.SendRawAsync([.. Prefix(3000), 0x96, 0x01], System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: false);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
        Assert.Equal(failuresBefore + 1, FailureRecords());
    }

    [Fact]
    public async Task OneMegabyteTicket_OverMessagePack_IsRefusedUnreadByThePreAuthenticationCap()
    {
        await using var socket = await ConnectAsync(ProtocolName);

        await socket.SendBinaryAsync(Invocation("1", nameof(IChatHub.Authenticate), new string('A', 1024 * 1024)));
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task MessageOverTheSizeCap_AfterAuthenticate_SendsOneCloseMessageInsteadOfSignalRsOwn(string protocol)
    {
        await using var socket = await AuthenticatedAsync(protocol);

        await socket.InvokeAsync(nameof(IChatHub.Echo), new string('x', 8192));
        var messages = await socket.ReceiveUntilSocketClosesAsync();

        var close = Assert.Single(messages, message => message.GetProperty("type").GetInt32() == 7);
        Assert.Equal(CloseReasons.MessageTooLarge, close.GetProperty("error").GetString());
        Assert.Equal(7, messages[^1].GetProperty("type").GetInt32());
    }

    [Fact]
    public async Task FrameAnnouncingMoreThanTheCap_AfterAuthenticate_ClosesBeforeItsBytesArrive()
    {
        await using var socket = await AuthenticatedAsync(ProtocolName);

        await socket.SendRawAsync([.. Prefix(100_000), 0x96, 0x01], System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: false);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.MessageTooLarge, close.Error);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PingFlood_AfterAuthenticate_ClosesWithRateLimited(string protocol)
    {
        await using var socket = await AuthenticatedAsync(protocol);

        // Pings are no invocations: only the message meter can count them, frame by frame.
        await socket.SendEncodedAsync([.. Enumerable.Repeat(socket.EncodePing(), 200)]);
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(CloseReasons.RateLimited, close.Error);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PingsAfterAuthenticate_WithinTheBurst_KeepTheConnection(string protocol)
    {
        await using var socket = await AuthenticatedAsync(protocol);

        await socket.SendEncodedAsync([.. Enumerable.Repeat(socket.EncodePing(), 60)]);
        var (echo, error) = await socket.CallAsync(nameof(IChatHub.Echo), "still here");

        Assert.Null(error);
        Assert.Equal("still here", echo!.Value.GetString());
    }

    private Task<RawHubSocket> ConnectAsync(string protocol) =>
        RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri, protocol: protocol);

    private async Task<RawHubSocket> AuthenticatedAsync(string protocol)
    {
        var socket = await ConnectAsync(protocol);
        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));
        Assert.Null(error);
        return socket;
    }

    private int FailureRecords() => _server.Logs.Records.Count(record => record.EventId.Name == "AuthenticationFailed");

    private async Task AssertTicketStillRedeemableAsync(string ticket)
    {
        await using var socket = await ConnectAsync(ProtocolName);
        var (result, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }
}
