using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.Tests.Unit;

/// <summary>A gate's state on its own: what it says before authentication, the protocol it reads, and its end.</summary>
public sealed class ConnectionGateStateTests : IDisposable
{
    private readonly GateTestbed _testbed = new();
    private readonly ConnectionAdmission _admission = new(Options.Create(new ProtectionOptions()));

    [Fact]
    public void NewGate_BeforeAuthentication_HasNoUserNoGroupsAndAnAnonymousPrincipal()
    {
        var connection = _testbed.Open();

        Assert.Equal(GateState.AwaitingAuthentication, connection.Gate.State);
        Assert.False(connection.Gate.IsAuthenticated);
        Assert.Null(connection.Gate.Identity);
        Assert.Empty(connection.Gate.Groups);
        Assert.Equal(string.Empty, connection.Gate.User);
        Assert.False(connection.Gate.CurrentPrincipal.Identity!.IsAuthenticated);
        Assert.Null(connection.Gate.CloseReason);
    }

    [Fact]
    public void TryBeginAuthentication_OnlyOnceAndOnlyAfterTheHandshake()
    {
        var handshaking = _testbed.Open(handshakeDone: false);
        var ready = _testbed.Open();

        var beforeTheHandshake = handshaking.Gate.TryBeginAuthentication();
        var first = ready.Gate.TryBeginAuthentication();
        var second = ready.Gate.TryBeginAuthentication();

        Assert.False(beforeTheHandshake);
        Assert.True(first);
        Assert.False(second);
        Assert.Equal(GateState.Authenticating, ready.Gate.State);
    }

    [Fact]
    public void Attach_ReadsTheProtocolByItsType()
    {
        var json = _testbed.Open(handshakeDone: false);
        var messagePack = _testbed.Open(handshakeDone: false, protocol: new MessagePackHubProtocol());
        var other = _testbed.Open(handshakeDone: false, protocol: new OtherProtocol());

        json.Gate.Attach(json.Hub);
        messagePack.Gate.Attach(messagePack.Hub);
        other.Gate.Attach(other.Hub);

        Assert.Equal(GateProtocol.Json, json.Gate.Protocol);
        Assert.Equal(GateProtocol.MessagePack, messagePack.Gate.Protocol);
        Assert.Equal(GateProtocol.Unreadable, other.Gate.Protocol);
    }

    [Fact]
    public void Attach_AfterTheGateStartedClosing_StaysClosing()
    {
        var connection = _testbed.Open(handshakeDone: false);
        connection.Gate.CloseAfterReply("test reason");

        connection.Gate.Attach(connection.Hub);

        Assert.Equal(GateState.Closing, connection.Gate.State);
        Assert.False(connection.Gate.TryBeginAuthentication());
    }

    [Fact]
    public void UserAgentHash_IsTheHashOfTheOpeningRequestsAgent_ComputedOnce()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        var duplex = new Duplex(pipe.Reader, pipe.Writer);
        var context = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), duplex, duplex);
        var gate = _testbed.Keeper.Open(context, _admission.TryAdmit(IPAddress.Loopback)!, IPAddress.Loopback, origin: null, userAgent: "ConnectionGateStateTests/1.0");

        var first = gate.UserAgentHash;
        var second = gate.UserAgentHash;

        Assert.Equal(UserAgentHash.Of("ConnectionGateStateTests/1.0"), first);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task Close_DuringTheHandshake_AbortsTheConnectionWithTheFirstReason()
    {
        var connection = _testbed.Open(handshakeDone: false);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = connection.Gate.ConnectionAborted.Register(() => aborted.TrySetResult());

        connection.Gate.Close("first reason");
        connection.Gate.Close("second reason");

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("first reason", connection.Gate.CloseReason);
        Assert.Equal(GateState.Closing, connection.Gate.State);
    }

    [Fact]
    public async Task SendCloseMessageAsync_CalledTwice_WritesOneCloseMessageWithTheReason()
    {
        var connection = _testbed.Open();
        connection.Gate.CloseAfterReply("test reason");

        var first = connection.Gate.SendCloseMessageAsync();
        var second = connection.Gate.SendCloseMessageAsync();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        var written = await connection.ReadWrittenAsync();

        Assert.Equal(1, written.Split("\"type\":7").Length - 1);
        Assert.Contains("\"error\":\"test reason\"", written, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendCloseMessageAsync_NotClosing_WritesNothing()
    {
        var connection = _testbed.Open();

        await connection.Gate.SendCloseMessageAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(connection.HasWritten());
    }

    [Fact]
    public async Task ExtendSession_AfterTheConnectionEnded_SchedulesNoDeadline()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var pending = _testbed.Keeper.Deadlines.Count;
        await GateTestbed.DisconnectAsync(connection);
        var afterTheEnd = _testbed.Keeper.Deadlines.Count;

        connection.Gate.ExtendSession(_testbed.Time.GetUtcNow() + TimeSpan.FromHours(1));

        Assert.Equal(pending - 1, afterTheEnd);
        Assert.Equal(afterTheEnd, _testbed.Keeper.Deadlines.Count);
        Assert.True(connection.Gate.IsDisposed);
    }

    [Fact]
    public async Task DisposeAsync_Twice_LetsGoOnce()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);

        await GateTestbed.DisconnectAsync(connection);
        await GateTestbed.DisconnectAsync(connection);

        Assert.Equal(0, _testbed.Budgets.Count);
        Assert.Equal(0, _testbed.Keeper.Deadlines.Count);
    }

    public void Dispose()
    {
        _admission.Dispose();
        _testbed.Dispose();
    }

    private sealed record Duplex(System.IO.Pipelines.PipeReader Input, System.IO.Pipelines.PipeWriter Output) : System.IO.Pipelines.IDuplexPipe;

    /// <summary>A hub protocol the gate does not know, so cannot read.</summary>
    private sealed class OtherProtocol : IHubProtocol
    {
        public string Name => "other";

        public int Version => 1;

        public TransferFormat TransferFormat => TransferFormat.Text;

        public bool IsVersionSupported(int version) => true;

        public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubMessage? message)
        {
            message = null;
            return false;
        }

        public void WriteMessage(HubMessage message, IBufferWriter<byte> output)
        {
        }

        public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => ReadOnlyMemory<byte>.Empty;
    }
}
