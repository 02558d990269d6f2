using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The gate's reader on in-memory pipes: exactly which bytes reach SignalR before authentication, the byte limits at
/// their boundary, and why and how a connection is closed when they are broken.
/// </summary>
public sealed class GateReaderTests : IDisposable
{
    private const int Cap = SecureHubOptions.DefaultPreAuthenticationMaximumMessageSize;
    private const byte Separator = 0x1e;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly GateTestbed _testbed = new();
    private readonly ViolationCounter _violations;

    public GateReaderTests() => _violations = new ViolationCounter(_testbed.MeterFactory);

    [Fact]
    public async Task Handshake_ExactlyTheCap_ReachesSignalR()
    {
        var (connection, reader) = Open(handshakeDone: false);

        await SendAsync(connection, [.. Filler(Cap), Separator]);
        var result = await ReadAsync(reader);

        Assert.Equal(Cap + 1, result.Buffer.Length);
        Assert.False(result.IsCanceled);
        Assert.Equal(GateState.Handshaking, connection.Gate.State);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Handshake_OneByteOverTheCap_IsAbortedWithAuthenticationRequired(bool withSeparator)
    {
        var (connection, reader) = Open(handshakeDone: false);
        var aborted = Aborted(connection);

        await SendAsync(connection, withSeparator ? [.. Filler(Cap + 1), Separator] : Filler(Cap + 1));
        var result = await ReadAsync(reader);

        // The handshake never reaches SignalR, and the connection is aborted at once, not by a timeout.
        Assert.True(result.IsCanceled);
        Assert.True(result.Buffer.IsEmpty);
        await aborted.WaitAsync(Timeout);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Contains(_testbed.Logs.WithEvent("PreAuthenticationViolation"), r => r.Message.Contains("an oversized handshake", StringComparison.Ordinal));
        Assert.Equal(1, _violations.Of(CloseReasons.AuthenticationRequired));
        Assert.False(_testbed.Failures.IsLockedOut(IPAddress.Loopback, out _));
    }

    [Fact]
    public async Task Handshake_ExactlyTheCapWithoutSeparator_WaitsForTheRest()
    {
        var (connection, reader) = Open(handshakeDone: false);

        await SendAsync(connection, Filler(Cap));
        var result = await ReadAsync(reader);

        Assert.Equal(Cap, result.Buffer.Length);
        Assert.Null(connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Frame_ExactlyTheCap_ReachesSignalR()
    {
        var (connection, reader) = Open();
        var ping = Ping(Cap);

        await SendAsync(connection, [.. ping, Separator]);
        var result = await ReadAsync(reader);

        Assert.Equal(Cap, ping.Length);
        Assert.Equal(Cap + 1, result.Buffer.Length);
        Assert.Null(connection.Gate.CloseReason);
        Assert.Equal(GateState.AwaitingAuthentication, connection.Gate.State);
    }

    [Fact]
    public async Task Frame_OneByteOverTheCapInOneRead_ClosesWithAuthenticationFailedAndCountsAsAFailure()
    {
        var (connection, reader) = Open();

        // The whole frame, separator included, arrives in one read.
        await SendAsync(connection, [.. Ping(Cap + 1), Separator]);
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.Contains("""{"type":7,"error":"authentication failed"}""", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
        Assert.Contains(_testbed.Logs.WithEvent("PreAuthenticationViolation"), r => r.Message.Contains("an oversized message", StringComparison.Ordinal));
        Assert.Single(_testbed.Logs.WithEvent("AuthenticationFailed"));
        Assert.Equal(1, _violations.Of(CloseReasons.AuthenticationFailed));
    }

    [Fact]
    public async Task Frame_ExactlyTheCapStillArriving_WaitsForTheRest()
    {
        var (connection, reader) = Open();

        await SendAsync(connection, Filler(Cap));
        var result = await ReadAsync(reader);

        Assert.Equal(Cap, result.Buffer.Length);
        Assert.Null(connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Frame_OverTheCapStillArriving_ClosesWithoutWaitingForItsEnd()
    {
        var (connection, reader) = Open();

        await SendAsync(connection, Filler(Cap + 1));
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"authentication failed\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
        Assert.Equal("an oversized message", Violation());
    }

    [Fact]
    public async Task MalformedAuthenticates_FromOneAddress_LockItOut()
    {
        const string attacker = "203.0.113.9";
        var threshold = new AspNetCore.Protection.ProtectionOptions().AuthenticationFailuresPerIp;
        var lockedBeforeTheLast = false;
        for (var i = 0; i < threshold; i++)
        {
            lockedBeforeTheLast |= _testbed.Failures.IsLockedOut(IPAddress.Parse(attacker), out _);
            var (connection, reader) = Open(clientIp: attacker);

            await SendFrameAsync(connection, """{"type":1,"invocationId":"1","target":"Authenticate","arguments":["t",42]}""");
            var result = await ReadAsync(reader);

            Assert.True(result.IsCompleted);
            Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        }

        Assert.False(lockedBeforeTheLast);
        Assert.True(_testbed.Failures.IsLockedOut(IPAddress.Parse(attacker), out _));
        Assert.False(_testbed.Failures.IsLockedOut(IPAddress.Loopback, out _));
        Assert.Equal(threshold, _violations.Of(CloseReasons.AuthenticationFailed));
        Assert.All(_testbed.Logs.WithEvent("PreAuthenticationViolation"), r => Assert.Equal("a malformed Authenticate", ViolationOf(r)));
        Assert.Equal(threshold, _testbed.Logs.WithEvent("PreAuthenticationViolation").Count());
        Assert.Single(_testbed.Logs.WithEvent("AddressLockedOut"));
    }

    [Theory]
    [InlineData("""{"type":1,"target":"Echo","arguments":["hi"]}""", "a message of kind Invocation")]
    [InlineData("""{"type":1,"arguments":["ticket"]}""", "a message of kind Invocation")]
    [InlineData("""{"type":4,"invocationId":"1","target":"Authenticate","arguments":["ticket"]}""", "a message of kind StreamInvocation")]
    [InlineData("""{"type":2,"invocationId":"1","item":"x"}""", "a message of kind StreamItem")]
    [InlineData("""{"type":6,"headers":{"type":1}}""", "a message of kind Malformed")]
    public async Task OtherMessage_BeforeAuthenticate_ClosesWithAuthenticationRequiredWithoutAFailure(string frame, string violation)
    {
        var (connection, reader) = Open();

        await SendFrameAsync(connection, frame);
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"authentication required\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
        Assert.Equal(violation, Violation());
        Assert.Empty(_testbed.Logs.WithEvent("AuthenticationFailed"));
        Assert.Equal(1, _violations.Of(CloseReasons.AuthenticationRequired));
    }

    [Fact]
    public async Task Pings_UpToTheCount_ReachSignalR_OneMoreCloses()
    {
        var (connection, reader) = Open();
        var allowed = _testbed.Options.PreAuthenticationMaximumMessages;

        await SendAsync(connection, [.. Enumerable.Repeat<byte[]>([.. Encoding.UTF8.GetBytes("""{"type":6}"""), Separator], allowed).SelectMany(b => b)]);
        var first = await ReadAsync(reader);
        var firstLength = first.Buffer.Length;
        reader.AdvanceTo(first.Buffer.End);
        await SendFrameAsync(connection, """{"type":6}""");
        var second = await ReadAsync(reader);

        Assert.False(first.IsCompleted);
        Assert.Equal(allowed * 11, firstLength);
        Assert.True(second.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Equal("too many messages", Violation());
    }

    [Fact]
    public async Task Authenticate_WithAFramePipelinedBehindIt_PassesOnlyUpToTheAuthenticateFrame()
    {
        var (connection, reader) = Open();
        const string authenticate = """{"type":1,"invocationId":"a","target":"Authenticate","arguments":["ticket"]}""";

        await SendAsync(connection, Encoding.UTF8.GetBytes(authenticate + "\u001e" + """{"type":1,"target":"Echo","arguments":["x"]}""" + "\u001e"));
        var result = await ReadAsync(reader);
        var passed = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.End);
        var held = reader.ReadAsync().AsTask();

        Assert.Equal(Encoding.UTF8.GetByteCount(authenticate) + 1, passed);
        Assert.Equal(GateState.Authenticating, connection.Gate.State);
        Assert.False(held.IsCompleted);
        connection.Gate.Close(CloseReasons.AuthenticationFailed);
        Assert.True((await held.WaitAsync(Timeout)).IsCompleted);
    }

    [Fact]
    public async Task ServerInitiatedClose_ClientThatIgnoresIt_IsCutOffWithoutSendingAnything()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        var pending = reader.ReadAsync().AsTask();

        await _testbed.Registry.CloseUserConnectionsAsync("alice", CloseReasons.Revoked);
        var result = await pending.WaitAsync(Timeout);

        Assert.True(result.IsCompleted);
        Assert.Contains("\"error\":\"revoked\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionExpiry_ClientThatIgnoresIt_IsCutOffWithoutSendingAnything()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        var pending = reader.ReadAsync().AsTask();

        _testbed.Time.Advance(_testbed.Options.SessionLifetime);
        var result = await pending.WaitAsync(Timeout);

        Assert.True(result.IsCompleted);
        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_WhileAReadIsPending_EndsTheRead()
    {
        var (connection, reader) = Open();
        var pending = reader.ReadAsync().AsTask();

        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);
        var result = await pending.WaitAsync(Timeout);

        Assert.True(result.IsCompleted);
        Assert.Contains("\"error\":\"authentication timeout\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authenticated_MessageOfTheMaximumSize_ReachesSignalR_OneByteMoreCloses()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        var maximum = _testbed.Options.MaximumReceiveMessageSize;

        // The maximum counts the separator.
        await SendAsync(connection, [.. Ping(maximum - 1), Separator]);
        var first = await ReadWholeMessageAsync(reader);
        var firstLength = first.Buffer.Length;
        reader.AdvanceTo(first.Buffer.End);
        await SendAsync(connection, [.. Ping(maximum), Separator]);
        var second = await ReadWholeMessageAsync(reader);

        Assert.Equal(maximum, firstLength);
        Assert.True(second.IsCompleted);
        Assert.Equal(CloseReasons.MessageTooLarge, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"message too large\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
        Assert.Single(_testbed.Logs.WithEvent("MessagesRefused"));
        Assert.Equal(1, _violations.Of(CloseReasons.MessageTooLarge));
    }

    [Fact]
    public async Task Authenticated_MessagesArrivingWhileReadsArePending_ReachSignalROneReadAtATime()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        byte[] ping = [.. Encoding.UTF8.GetBytes("""{"type":6}"""), Separator];

        // An idle connection's read waits for the client; the same reader serves read after read.
        for (var i = 0; i < 3; i++)
        {
            var pending = reader.ReadAsync();
            Assert.False(pending.IsCompleted);
            await SendAsync(connection, ping);
            var result = await pending.AsTask().WaitAsync(Timeout);

            Assert.Equal(ping, result.Buffer.ToArray());
            reader.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(GateState.Authenticated, connection.Gate.State);
    }

    [Fact]
    public async Task Authenticated_PendingRead_ReportsItsStateAndGivesItsResultOnce()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        byte[] ping = [.. Encoding.UTF8.GetBytes("""{"type":6}"""), Separator];

        var pending = reader.ReadAsync();
        var completedBeforeTheClientSent = pending.IsCompleted;
        await SendAsync(connection, ping);
        var succeededOnceSent = pending.IsCompletedSuccessfully;
        var result = await pending;

        Assert.False(completedBeforeTheClientSent);
        Assert.True(succeededOnceSent);
        Assert.Equal(ping, result.Buffer.ToArray());

        // A ValueTask's result is taken once; a second take is refused, never a stale or empty result.
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pending);
        reader.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task Authenticated_PendingRead_WhoseTransportFails_FaultsWithTheTransportsError()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        var pending = reader.ReadAsync();

        await connection.Context.Application!.Output.CompleteAsync(new IOException("connection reset"));

        Assert.True(pending.IsFaulted);
        await Assert.ThrowsAsync<IOException>(() => pending.AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Authenticated_OversizedMessageWhileAReadIsPending_NeverReachesSignalRAndCloses()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        var pending = reader.ReadAsync().AsTask();

        await SendAsync(connection, [.. Ping(_testbed.Options.MaximumReceiveMessageSize), Separator]);
        var result = await pending.WaitAsync(Timeout);
        var end = await ReadWholeMessageAsync(reader, result);

        Assert.True(result.Buffer.IsEmpty);
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
        Assert.Equal(CloseReasons.MessageTooLarge, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"message too large\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authenticated_MessagesOverTheBurst_CloseWithRateLimited()
    {
        var (connection, reader) = await OpenAuthenticatedAsync();
        var burst = _testbed.Options.MessageBurst;
        byte[] ping = [.. Encoding.UTF8.GetBytes("""{"type":6}"""), Separator];

        await SendAsync(connection, [.. Enumerable.Repeat(ping, burst).SelectMany(b => b)]);
        var first = await ReadAsync(reader);
        reader.AdvanceTo(first.Buffer.End);
        await SendAsync(connection, ping);
        var second = await ReadAsync(reader);

        Assert.False(first.IsCompleted);
        Assert.True(second.IsCompleted);
        Assert.Equal(CloseReasons.RateLimited, connection.Gate.CloseReason);
        Assert.Equal(0, _violations.Of(CloseReasons.RateLimited));
    }

    [Fact]
    public async Task Read_CanceledBeforeAuthentication_IsHandedBackWithoutJudgingTheFrameBehindIt()
    {
        var (connection, reader) = Open();
        await SendFrameAsync(connection, """{"type":1,"target":"Echo","arguments":["x"]}""");

        // SignalR ends its loop on a canceled read without parsing; the frame is judged at the next read.
        reader.CancelPendingRead();
        var canceled = await ReadAsync(reader);
        var reasonAfterTheCancel = connection.Gate.CloseReason;
        reader.AdvanceTo(canceled.Buffer.Start);
        var next = await ReadAsync(reader);

        Assert.True(canceled.IsCanceled);
        Assert.False(canceled.IsCompleted);
        Assert.Null(reasonAfterTheCancel);
        Assert.True(next.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Equal("a message of kind Invocation", Violation());
    }

    [Fact]
    public async Task TryRead_WithFramesWaiting_NeverHandsThemOverUninspected()
    {
        var (connection, reader) = Open();
        await SendFrameAsync(connection, """{"type":1,"target":"Echo","arguments":["x"]}""");
        var (authenticated, authenticatedReader) = await OpenAuthenticatedAsync();
        await SendFrameAsync(authenticated, """{"type":6}""");

        var before = reader.TryRead(out var beforeResult);
        var after = authenticatedReader.TryRead(out var afterResult);

        Assert.False(before);
        Assert.True(beforeResult.Buffer.IsEmpty);
        Assert.False(after);
        Assert.True(afterResult.Buffer.IsEmpty);
    }

    [Fact]
    public async Task Read_ClientEndsBeforeAuthenticating_HandsSignalRTheEndWithoutAViolation()
    {
        var (connection, reader) = Open();

        await connection.Context.Application!.Output.CompleteAsync().AsTask().WaitAsync(Timeout);
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.True(result.Buffer.IsEmpty);
        Assert.Null(connection.Gate.CloseReason);
        Assert.Empty(_testbed.Logs.WithEvent("PreAuthenticationViolation"));
    }

    [Fact]
    public async Task Frame_InAProtocolTheGateCannotRead_ClosesWithAuthenticationRequired()
    {
        // The JSON protocol under another type: the gate tells protocols apart by type, so it cannot vouch for this one.
        var (connection, reader) = Open(protocol: new UnknownProtocol());

        await SendFrameAsync(connection, """{"type":6}""");
        var result = await ReadAsync(reader);

        Assert.Equal(GateProtocol.Unreadable, connection.Gate.Protocol);
        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Equal("a protocol the gate cannot read", Violation());
    }

    [Fact]
    public async Task MessagePack_AuthenticateOfExactlyTheCap_ReachesSignalR_AFramePipelinedBehindItWaits()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());
        var authenticate = Frame(MessagePackAuthenticate(Cap));
        var ping = Frame(MessagePackFrame.Message(6));

        await SendAsync(connection, [.. authenticate, .. ping]);
        var result = await ReadAsync(reader);

        Assert.Equal(Cap, authenticate.Length - MessagePackFrame.Prefix(Cap).Length);
        Assert.Equal(authenticate.Length, result.Buffer.Length);
        Assert.Equal(GateState.Authenticating, connection.Gate.State);
        Assert.Null(connection.Gate.CloseReason);
    }

    [Fact]
    public async Task MessagePack_PrefixAnnouncingOneByteOverTheCap_ClosesBeforeThePayloadArrives()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());

        await SendAsync(connection, MessagePackFrame.Prefix(Cap + 1));
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.Equal("an oversized message", Violation());
        Assert.Single(_testbed.Logs.WithEvent("AuthenticationFailed"));
    }

    [Fact]
    public async Task MessagePack_FrameOfTheCapStillArriving_WaitsForTheRest()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());
        var authenticate = Frame(MessagePackAuthenticate(Cap));

        await SendAsync(connection, authenticate[..^1]);
        var result = await ReadAsync(reader);

        Assert.Equal(authenticate.Length - 1, result.Buffer.Length);
        Assert.False(result.IsCompleted);
        Assert.Null(connection.Gate.CloseReason);
        Assert.Equal(GateState.AwaitingAuthentication, connection.Gate.State);
    }

    [Fact]
    public async Task MessagePack_PrefixStillArriving_WaitsForTheRest()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());

        await SendAsync(connection, [0x80]);
        var result = await ReadAsync(reader);

        Assert.Equal(1, result.Buffer.Length);
        Assert.False(result.IsCompleted);
        Assert.Null(connection.Gate.CloseReason);
    }

    [Fact]
    public async Task MessagePack_OverlongLengthPrefix_ClosesWithAuthenticationRequired()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());

        // 0x80 0x00 is zero written in two bytes: SignalR reads it, no client writes it.
        await SendAsync(connection, [0x80, 0x00]);
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Equal("a malformed length prefix", Violation());
        Assert.Empty(_testbed.Logs.WithEvent("AuthenticationFailed"));
    }

    [Fact]
    public async Task MessagePack_PingsThenAnInvocation_ClosesAtTheInvocation()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());
        var ping = Frame(MessagePackFrame.Message(6));

        await SendAsync(connection, [.. ping, .. ping, .. Frame(MessagePackFrame.Message(1, new MessagePackFrame.Map(), "1", "Echo", new object?[] { "x" }, Array.Empty<object?>()))]);
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Equal("a message of kind Invocation", Violation());
    }

    [Fact]
    public async Task MessagePack_MalformedAuthenticate_ClosesWithAuthenticationFailed()
    {
        var (connection, reader) = Open(protocol: new MessagePackHubProtocol());

        await SendAsync(connection, Frame(MessagePackFrame.Message(1, new MessagePackFrame.Map(), "1", "Authenticate", new object?[] { "t", 42 }, Array.Empty<object?>())));
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.Equal("a malformed Authenticate", Violation());
    }

    public void Dispose()
    {
        _violations.Dispose();
        _testbed.Dispose();
    }

    /// <summary><paramref name="length"/> bytes of a ping frame padded with an unknown property, separator excluded.</summary>
    private static byte[] Ping(int length)
    {
        const string start = "{\"type\":6,\"pad\":\"";
        const string end = "\"}";
        var frame = Encoding.UTF8.GetBytes(start + new string('x', length - start.Length - end.Length) + end);
        Assert.Equal(length, frame.Length);
        return frame;
    }

    private static byte[] Filler(int length) => Encoding.UTF8.GetBytes(new string('x', length));

    private static async Task<ReadResult> ReadAsync(PipeReader reader) => await reader.ReadAsync().AsTask().WaitAsync(Timeout);

    /// <summary>Reads the way SignalR does: again, consuming nothing, until a whole message has arrived or the read ends.</summary>
    private static async Task<ReadResult> ReadWholeMessageAsync(PipeReader reader, ReadResult? first = null)
    {
        while (true)
        {
            var result = first ?? await ReadAsync(reader);
            first = null;
            if (result.IsCompleted || result.IsCanceled || result.Buffer.PositionOf(Separator) is not null)
            {
                return result;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>A MessagePack Authenticate whose payload is <paramref name="length"/> bytes, length prefix excluded.</summary>
    private static byte[] MessagePackAuthenticate(int length)
    {
        byte[] Build(int ticketLength) =>
            MessagePackFrame.Message(1, new MessagePackFrame.Map(), "1", "Authenticate", new object?[] { new string('t', ticketLength) }, Array.Empty<object?>());

        var ticketLength = length - Build(0).Length;
        while (Build(ticketLength).Length > length)
        {
            ticketLength--;
        }

        var payload = Build(ticketLength);
        Assert.Equal(length, payload.Length);
        return payload;
    }

    private static byte[] Frame(byte[] payload) => MessagePackFrame.Frame(payload);

    /// <summary>The violation of the one <c>PreAuthenticationViolation</c> logged.</summary>
    private string Violation() => ViolationOf(Assert.Single(_testbed.Logs.WithEvent("PreAuthenticationViolation")));

    private static string ViolationOf(LogRecord record)
    {
        const string sent = " sent ";
        const string end = " before authenticating";
        var start = record.Message.IndexOf(sent, StringComparison.Ordinal) + sent.Length;
        Assert.EndsWith(end, record.Message, StringComparison.Ordinal);
        return record.Message[start..^end.Length];
    }

    private static Task SendFrameAsync(TestConnection connection, string json) => SendAsync(connection, [.. Encoding.UTF8.GetBytes(json), Separator]);

    private static async Task SendAsync(TestConnection connection, byte[] bytes) =>
        await connection.Context.Application!.Output.WriteAsync(bytes).AsTask().WaitAsync(Timeout);

    private static Task Aborted(TestConnection connection)
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Context.ConnectionClosed.Register(() => aborted.TrySetResult());
        return aborted.Task;
    }

    private (TestConnection Connection, GateReader Reader) Open(bool handshakeDone = true, string clientIp = "127.0.0.1", IHubProtocol? protocol = null)
    {
        var connection = _testbed.Open(handshakeDone, clientIp, protocol);
        return (connection, new GateReader(connection.Context.Transport.Input, connection.Gate, _testbed.Options));
    }

    private async Task<(TestConnection Connection, GateReader Reader)> OpenAuthenticatedAsync()
    {
        var (connection, reader) = Open();
        await _testbed.AuthenticateAsync(connection);
        Assert.True(connection.Gate.IsAuthenticated);
        return (connection, reader);
    }

    /// <summary>SignalR's JSON protocol under a type of its own, as an app's custom protocol would be.</summary>
    private sealed class UnknownProtocol : IHubProtocol
    {
        private readonly JsonHubProtocol _json = new();

        public string Name => "unknown";

        public int Version => _json.Version;

        public TransferFormat TransferFormat => _json.TransferFormat;

        public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message) =>
            _json.TryParseMessage(ref input, binder, out message);

        public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _json.WriteMessage(message, output);

        public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _json.GetMessageBytes(message);

        public bool IsVersionSupported(int version) => _json.IsVersionSupported(version);
    }

    /// <summary>The testbed's <c>signalrsecure.protocol.violations</c>, by close reason.</summary>
    private sealed class ViolationCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _byReason = [];

        public ViolationCounter(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name == "signalrsecure.protocol.violations")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "reason", Value: string reason })
                    {
                        lock (_byReason)
                        {
                            _byReason[reason] = _byReason.GetValueOrDefault(reason) + value;
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Of(string reason)
        {
            lock (_byReason)
            {
                return _byReason.GetValueOrDefault(reason);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
