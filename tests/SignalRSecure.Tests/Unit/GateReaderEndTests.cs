using System.Text;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;
using static SignalRSecure.Tests.Unit.GateReaderHarness;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// How the reader hands SignalR the end of a connection before authentication: the exact result SignalR sees, the
/// advance SignalR makes past it, and the transport's reader left between reads however the read ended.
/// </summary>
public sealed class GateReaderEndTests : IDisposable
{
    private readonly GateTestbed _testbed = new();

    [Fact]
    public async Task Handshake_OverTheCap_HandsSignalRACanceledReadItCanAdvancePast()
    {
        var (connection, reader) = Open(_testbed, handshakeDone: false);
        var cap = _testbed.Options.PreAuthenticationMaximumMessageSize;

        await SendAsync(connection, [.. Encoding.UTF8.GetBytes(new string('x', cap + 1)), Separator]);
        var result = await ReadAsync(reader);

        // SignalR's handshake gives up on a canceled read; the connection is aborted underneath it.
        Assert.True(result.IsCanceled);
        Assert.False(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        AssertTransportBetweenReads(connection);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task OtherMessage_BeforeAuthenticate_EndsTheReadAndLeavesTheTransportBetweenReads()
    {
        var (connection, reader) = Open(_testbed);

        await SendFrameAsync(connection, """{"type":1,"target":"Echo","arguments":["x"]}""");
        var end = await ReadAsync(reader);

        AssertEnd(reader, end);
        AssertTransportBetweenReads(connection);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Deadline_WhileAReadIsPending_EndsTheReadAndLeavesTheTransportBetweenReads()
    {
        var (connection, reader) = Open(_testbed);
        var pending = reader.ReadAsync().AsTask();

        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);
        var end = await pending.WaitAsync(WaitLimit);

        AssertEnd(reader, end);
        AssertTransportBetweenReads(connection);
        Assert.Equal(CloseReasons.AuthenticationTimeout, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Frame_ArrivingOnceTheGateIsClosing_IsNeitherJudgedNorConsumed()
    {
        // Arrange: the gate decides to close (after a reply still on its way) while a read waits for the client.
        var (connection, reader) = Open(_testbed);
        var pending = reader.ReadAsync().AsTask();
        connection.Gate.CloseAfterReply(CloseReasons.Unavailable);

        // Act: a frame that would be a violation wakes the read.
        await SendFrameAsync(connection, """{"type":1,"target":"Echo","arguments":["x"]}""");
        var endedBeforeTheReply = pending.IsCompleted;
        connection.Gate.InvocationEnded();
        var end = await pending.WaitAsync(WaitLimit);

        // Assert: the read ends after the reply with the close the gate chose; the frame counts for nothing.
        Assert.False(endedBeforeTheReply);
        AssertEnd(reader, end);
        AssertTransportBetweenReads(connection);
        Assert.Equal(CloseReasons.Unavailable, connection.Gate.CloseReason);
        Assert.Empty(_testbed.Logs.WithEvent("PreAuthenticationViolation"));
    }

    [Fact]
    public async Task Authenticate_ArrivingWithTheClientsEnd_IsPassedAsAnOrdinaryRead()
    {
        var (connection, reader) = Open(_testbed);
        const string authenticate = """{"type":1,"invocationId":"a","target":"Authenticate","arguments":["ticket"]}""";

        // The client sends its Authenticate and a frame behind it, then ends its side: SignalR must still run the
        // Authenticate, so the read it gets is neither canceled nor the end.
        await SendAsync(connection, Encoding.UTF8.GetBytes(authenticate + "\u001e" + """{"type":6}""" + "\u001e"));
        await connection.Context.Application!.Output.CompleteAsync().AsTask().WaitAsync(WaitLimit);
        var result = await ReadAsync(reader);

        Assert.Equal(Encoding.UTF8.GetByteCount(authenticate) + 1, result.Buffer.Length);
        Assert.False(result.IsCanceled);
        Assert.False(result.IsCompleted);
        Assert.Equal(GateState.Authenticating, connection.Gate.State);
    }

    [Fact]
    public async Task Authenticate_WhileAnotherIsBeingAuthenticated_ClosesWithAuthenticationRequired()
    {
        var (connection, reader) = Open(_testbed);
        var pending = reader.ReadAsync().AsTask();

        // One Authenticate per connection: this one arrives once another has begun.
        Assert.True(connection.Gate.TryBeginAuthentication());
        await SendFrameAsync(connection, """{"type":1,"invocationId":"a","target":"Authenticate","arguments":["ticket"]}""");
        var end = await pending.WaitAsync(WaitLimit);

        AssertEnd(reader, end);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        var violation = Assert.Single(_testbed.Logs.WithEvent("PreAuthenticationViolation"));
        Assert.Contains(" sent a second Authenticate before authenticating", violation.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _testbed.Dispose();
}
