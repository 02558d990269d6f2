using System.Buffers;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;

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
        Assert.Equal(threshold, _testbed.Logs.WithEvent("PreAuthenticationViolation").Count());
        Assert.Single(_testbed.Logs.WithEvent("AddressLockedOut"));
    }

    [Theory]
    [InlineData("""{"type":1,"target":"Echo","arguments":["hi"]}""")]
    [InlineData("""{"type":1,"arguments":["ticket"]}""")]
    [InlineData("""{"type":4,"invocationId":"1","target":"Authenticate","arguments":["ticket"]}""")]
    [InlineData("""{"type":2,"invocationId":"1","item":"x"}""")]
    public async Task OtherMessage_BeforeAuthenticate_ClosesWithAuthenticationRequiredWithoutAFailure(string frame)
    {
        var (connection, reader) = Open();

        await SendFrameAsync(connection, frame);
        var result = await ReadAsync(reader);

        Assert.True(result.IsCompleted);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Contains("\"error\":\"authentication required\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
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
    private static async Task<ReadResult> ReadWholeMessageAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await ReadAsync(reader);
            if (result.IsCompleted || result.IsCanceled || result.Buffer.PositionOf(Separator) is not null)
            {
                return result;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
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

    private (TestConnection Connection, GateReader Reader) Open(bool handshakeDone = true, string clientIp = "127.0.0.1")
    {
        var connection = _testbed.Open(handshakeDone, clientIp);
        return (connection, new GateReader(connection.Context.Transport.Input, connection.Gate, _testbed.Options));
    }

    private async Task<(TestConnection Connection, GateReader Reader)> OpenAuthenticatedAsync()
    {
        var (connection, reader) = Open();
        await _testbed.AuthenticateAsync(connection);
        Assert.True(connection.Gate.IsAuthenticated);
        return (connection, reader);
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
