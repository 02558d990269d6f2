using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The connection middleware in front of SignalR: admits the connection (or takes the admission its request was given),
/// puts the gate's reader in front of the transport, and when the application ends or throws disposes the gate (which
/// gives the permits back) and puts the original transport back.
/// </summary>
public sealed class GateConnectionMiddlewareTests : IDisposable
{
    private const string ClientIp = "203.0.113.7";

    private readonly GateTestbed _testbed = new(protection: new ProtectionOptions { MaxConnectionsPerIp = 1, MaxUnauthenticatedConnectionsPerIp = 1 });
    private readonly CapturedLogs _logs = new();
    private readonly LoggerFactory _loggers;
    private readonly RateLimitRejections _rejections;
    private readonly GateConnectionMiddleware _middleware;

    public GateConnectionMiddlewareTests()
    {
        _loggers = new LoggerFactory([_logs]);
        _rejections = new RateLimitRejections(_testbed.MeterFactory);
        _middleware = new GateConnectionMiddleware(
            _testbed.Keeper, _testbed.Admissions, new SecureHubMetrics(_testbed.MeterFactory), _loggers.CreateLogger<GateConnectionMiddleware>());
    }

    [Fact]
    public async Task InvokeAsync_WhileTheApplicationRuns_ItSeesTheGatedTransportAndTheGateHoldsThePermit()
    {
        // Arrange
        var (connection, original) = Connection(Request());
        var application = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IDuplexPipe? seen = null;

        // Act
        var running = _middleware.InvokeAsync(connection, c => { seen = c.Transport; return application.Task; });

        // Assert
        var gated = Assert.IsType<GatedTransport>(seen);
        Assert.Same(original, gated.Original);
        Assert.Same(original.Output, gated.Output);
        Assert.IsType<GateReader>(gated.Input);
        Assert.Same(gated, connection.Transport);
        var gate = Assert.IsType<ConnectionGate>(ConnectionGate.From(connection.Features));
        Assert.False(gate.IsDisposed);
        Assert.Equal(IPAddress.Parse(ClientIp), gate.RemoteIp);
        Assert.Equal("https://chat.example", gate.Origin);
        Assert.Equal(UserAgentHash.Of("test-agent/1.0"), gate.UserAgentHash);
        Assert.Null(_testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
        Assert.False(running.IsCompleted);
        Assert.False(connection.Aborted);

        application.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task InvokeAsync_ApplicationEnds_DisposesTheGatePutsTheTransportBackAndGivesThePermitBack()
    {
        // Arrange
        var (connection, original) = Connection(Request());
        var application = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _middleware.InvokeAsync(connection, _ => application.Task);
        var gate = ConnectionGate.From(connection.Features)!;

        // Act
        application.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        AssertCleanedUp(gate, connection, original);
    }

    [Fact]
    public async Task InvokeAsync_ApplicationFails_SameCleanUpAndTheErrorGoesOn()
    {
        var (connection, original) = Connection(Request());
        var application = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _middleware.InvokeAsync(connection, _ => application.Task);
        var gate = ConnectionGate.From(connection.Features)!;

        application.SetException(new InvalidOperationException("hub failed"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => running.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("hub failed", error.Message);
        AssertCleanedUp(gate, connection, original);
    }

    [Fact]
    public async Task InvokeAsync_ApplicationThrowsBeforeItsFirstAwait_SameCleanUpAndTheErrorGoesOn()
    {
        var (connection, original) = Connection(Request());

        var running = _middleware.InvokeAsync(connection, _ => throw new InvalidOperationException("hub failed"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => running.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("hub failed", error.Message);
        AssertCleanedUp(ConnectionGate.From(connection.Features)!, connection, original);
    }

    [Fact]
    public async Task InvokeAsync_ApplicationSwappedTheTransport_LeavesTheApplicationsTransport()
    {
        // Arrange: something after the gate put a transport of its own in place.
        var (connection, _) = Connection(Request());
        var own = Duplex.Create();

        // Act
        await _middleware.InvokeAsync(connection, c => { c.Transport = own; return Task.CompletedTask; }).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Same(own, connection.Transport);
    }

    [Fact]
    public async Task InvokeAsync_OverTheConnectionCap_AbortsWithoutOpeningAGateOrRunningTheApplication()
    {
        // Arrange
        using var held = _testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        var (connection, original) = Connection(Request());
        var ran = false;

        // Act
        await _middleware.InvokeAsync(connection, _ => { ran = true; return Task.CompletedTask; }).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.False(ran);
        Assert.True(connection.Aborted);
        Assert.Same(original, connection.Transport);
        Assert.Null(ConnectionGate.From(connection.Features));
        Assert.Equal(1, _rejections.Of("connections"));
        var logged = Assert.Single(_logs.WithEvent("ConnectionCapRefused"));
        Assert.Contains(ClientIp, logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_RequestHandedAnAdmissionOver_TakesItInsteadOfAdmittingAgain()
    {
        // Arrange: the WebSocket request was admitted (the cap of 1 is used) and left its admission for the connection.
        var request = Request();
        var admission = _testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp))!;
        _testbed.Admissions.HandOver(request, admission);
        var (connection, _) = Connection(request);
        var application = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = false;

        // Act
        var running = _middleware.InvokeAsync(connection, _ => { ran = true; return application.Task; });

        // Assert: admitted on the handed-over permit, which the gate now holds, and gives back when it ends.
        Assert.True(ran);
        Assert.False(connection.Aborted);
        Assert.Null(_testbed.Admissions.TakeHandedOver(request));
        Assert.Null(_testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
        application.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        using var next = _testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        Assert.NotNull(next);
        Assert.Equal(0, _rejections.Total);
    }

    [Fact]
    public async Task InvokeAsync_RequestHandedAnAdmissionOverBelowTheCap_TakesNoSecondPlace()
    {
        // Arrange: room for two connections of the address; the WebSocket request holds one and hands it over.
        using var testbed = new GateTestbed(protection: new ProtectionOptions { MaxConnectionsPerIp = 2, MaxUnauthenticatedConnectionsPerIp = 2 });
        var middleware = new GateConnectionMiddleware(
            testbed.Keeper, testbed.Admissions, new SecureHubMetrics(testbed.MeterFactory), _loggers.CreateLogger<GateConnectionMiddleware>());
        var request = Request();
        testbed.Admissions.HandOver(request, testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp))!);
        var (connection, _) = Connection(request);
        var application = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Act
        var running = middleware.InvokeAsync(connection, _ => application.Task);

        // Assert: the connection counts once, so the address's second connection still gets in; nothing is left over.
        var handedOverLeft = testbed.Admissions.TakeHandedOver(request);
        using var second = testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        Assert.Null(handedOverLeft);
        Assert.NotNull(second);
        application.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task InvokeAsync_NoHttpContext_AdmitsUnderTheMissingAddressKey()
    {
        var (connection, original) = Connection(http: null);
        var application = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var running = _middleware.InvokeAsync(connection, _ => application.Task);
        var gate = ConnectionGate.From(connection.Features)!;

        Assert.Null(gate.RemoteIp);
        Assert.Null(gate.Origin);
        Assert.Null(_testbed.Admissions.TryAdmit(null));
        Assert.NotNull(_testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
        application.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(original, connection.Transport);
    }

    [Fact]
    public async Task InvokeAsync_GateCannotBePutInFront_GivesThePermitBackAndThrows()
    {
        // Arrange: a transport whose input cannot be read fails the set-up after the gate is open.
        var transport = new ThrowingInputDuplex();
        var connection = new RecordingConnection(transport);
        connection.Features.Set<IHttpContextFeature>(new HttpContextFeature { HttpContext = Request() });
        var ran = false;

        // Act
        Exception? thrown = null;
        try
        {
            await _middleware.InvokeAsync(connection, _ => { ran = true; return Task.CompletedTask; }).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        Assert.Equal("no input", thrown?.Message);

        // Assert
        Assert.False(ran);
        Assert.Same(transport, connection.Transport);
        using var next = _testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        Assert.NotNull(next);
    }

    public void Dispose()
    {
        _rejections.Dispose();
        _loggers.Dispose();
        _testbed.Dispose();
    }

    // The end of every connection: the gate disposed, the original transport back, and the address's one permit free.
    private void AssertCleanedUp(ConnectionGate gate, ConnectionContext connection, IDuplexPipe original)
    {
        Assert.True(gate.IsDisposed);
        Assert.Same(original, connection.Transport);
        using var next = _testbed.Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        Assert.NotNull(next);
    }

    private static DefaultHttpContext Request()
    {
        var request = HttpContexts.Request(remoteIp: ClientIp);
        request.Request.Headers.Origin = "https://Chat.Example:443";
        request.Request.Headers.UserAgent = "test-agent/1.0";
        return request;
    }

    private static (RecordingConnection Connection, IDuplexPipe Original) Connection(HttpContext? http)
    {
        var original = Duplex.Create();
        var connection = new RecordingConnection(original);
        if (http is not null)
        {
            connection.Features.Set<IHttpContextFeature>(new HttpContextFeature { HttpContext = http });
        }

        return (connection, original);
    }

    private sealed class RecordingConnection(IDuplexPipe transport) : DefaultConnectionContext(Guid.NewGuid().ToString("N"), transport, Duplex.Create())
    {
        public bool Aborted { get; private set; }

        public override void Abort(ConnectionAbortedException abortReason)
        {
            Aborted = true;
            base.Abort(abortReason);
        }
    }

    private sealed class HttpContextFeature : IHttpContextFeature
    {
        public HttpContext? HttpContext { get; set; }
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe
    {
        public static Duplex Create() => new(new Pipe().Reader, new Pipe().Writer);
    }

    private sealed class ThrowingInputDuplex : IDuplexPipe
    {
        public PipeReader Input => throw new InvalidOperationException("no input");

        public PipeWriter Output { get; } = new Pipe().Writer;
    }
}
