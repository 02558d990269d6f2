using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Frames that the gate and SignalR's parser could read differently before authentication: fields of the wrong JSON
/// type and repeated properties. The gate must close each itself, with its documented reason, before SignalR reads it.
/// </summary>
public sealed class FrameReadingTests : IAsyncLifetime
{
    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "100",
        ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string> MistypedFrames => new()
    {
        { """{"type":6,"invocationId":5}""", CloseReasons.AuthenticationRequired },
        { """{"type":6,"headers":[]}""", CloseReasons.AuthenticationRequired },
        { """{"type":6,"item":1,"invocationId":"1"}""", CloseReasons.AuthenticationRequired },
        { """{"type":6,"type":6}""", CloseReasons.AuthenticationRequired },
        { """{"type":7,"allowReconnect":"x"}""", CloseReasons.AuthenticationRequired },
        { """{"type":7,"error":null}""", CloseReasons.AuthenticationRequired },
        { """{"type":7,"error":5}""", CloseReasons.AuthenticationRequired },
        { """{"type":null}""", CloseReasons.AuthenticationRequired },
        { """{"type":1.5}""", CloseReasons.AuthenticationRequired },
        { """{"type":6,"x":1,"x":2}""", CloseReasons.AuthenticationRequired },
        { """{"type":1,"invocationId":5,"target":"Authenticate","arguments":["TICKET"]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"streamIds":"abc"}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"streamIds":[1]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"headers":{"a":1}}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"headers":[]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"arguments":[]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":[],"arguments":["TICKET"]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","target":"Echo","arguments":["TICKET"]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"item":"x","invocationId":"1"}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"result":1}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET"],"error":"x"}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","arguments":["TICKET", 42]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"target":"Authenticate","headers":{"type":6},"arguments":["TICKET"]}""", CloseReasons.AuthenticationFailed },
        { """{"type":1,"arguments":["TICKET"]}""", CloseReasons.AuthenticationRequired },
    };

    [Theory]
    [MemberData(nameof(MistypedFrames))]
    public async Task Frame_ThatSignalRWouldReadDifferently_IsClosedByTheGateWithItsReason(string template, string reason)
    {
        // A real ticket: had the frame reached SignalR, the ticket would have been spent (or the connection would hang).
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.SendFrameAsync(template.Replace("TICKET", ticket, StringComparison.Ordinal));
        var messages = await socket.ReceiveUntilSocketClosesAsync();

        var close = Assert.Single(messages);
        Assert.Equal(7, close.GetProperty("type").GetInt32());
        Assert.Equal(reason, close.GetProperty("error").GetString());
        Assert.Contains(_server.Logs.Records, record => record.EventId.Name == "PreAuthenticationViolation");
        await AssertTicketStillRedeemableAsync(ticket);
    }

    [Fact]
    public async Task Authenticate_WithItsArgumentsTwice_ClosesAtOnceAndCountsAsAFailure()
    {
        var ticket = await _server.GetTicketAsync(SecureServer.Alice);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var failuresBefore = FailureRecords();

        await socket.SendFrameAsync($$"""{"type":1,"invocationId":"1","target":"Authenticate","arguments":["{{ticket}}"],"arguments":[]}""");
        var close = await socket.ReceiveCloseAsync().WaitAsync(TimeSpan.FromSeconds(5));

        // Closed by the gate, not left hanging until the authentication deadline (10 s here).
        Assert.Equal(CloseReasons.AuthenticationFailed, close.Error);
        Assert.Equal(failuresBefore + 1, FailureRecords());
    }

    private int FailureRecords() => _server.Logs.Records.Count(record => record.EventId.Name == "AuthenticationFailed");

    private async Task AssertTicketStillRedeemableAsync(string ticket)
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var (result, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }
}
