using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The checks in front of the secure routes, before any 101: origin, the WebSocket header sizes, the lockout, the
/// per-IP rate of negotiations, the connection caps and the pace of new connections; a refused request gets a generic
/// error with Cache-Control no-store (and Retry-After for a 429) and never reaches the rest of the pipeline, and a
/// WebSocket or SSE request's permits come back on every path.
/// </summary>
public sealed class SecureEndpointMiddlewareTests : IDisposable
{
    private const string ClientIp = "203.0.113.7";

    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CapturedLogs _logs = new();
    private readonly LoggerFactory _loggers;
    private readonly ManualTimeProvider _time = new();
    private readonly ScriptedLockout _lockout = new();
    private readonly RateLimitRejections _rejections;
    private ConnectionAdmission? _admissions;
    private NewConnectionPace? _pace;
    private NegotiationLimiter? _negotiations;

    public SecureEndpointMiddlewareTests()
    {
        _loggers = new LoggerFactory([_logs]);
        _rejections = new RateLimitRejections(_meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
    }

    private ConnectionAdmission Admissions => _admissions!;

    private NegotiationLimiter Negotiations => _negotiations!;

    [Fact]
    public async Task InvokeAsync_UnmarkedRoute_RunsTheRestUntouched()
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { AllowedOrigins = [] }, next: next);
        var context = Request(kind: null);
        context.Request.Headers.Origin = "https://evil.example";

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Calls(context));
        Assert.False(context.Response.Headers.ContainsKey("Cache-Control"));
        Assert.Equal(200, context.Response.StatusCode);
    }

    [Theory]
    [InlineData(SecureEndpointKind.Auth)]
    [InlineData(SecureEndpointKind.Hub)]
    public async Task InvokeAsync_OriginNotAllowed_403WithoutRunningTheRest(SecureEndpointKind kind)
    {
        var next = new Next();
        var middleware = Middleware(next: next);
        var context = Request(kind, upgrade: true);
        context.Request.Headers.Origin = "https://evil.example";

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(context, StatusCodes.Status403Forbidden, "origin not allowed");
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
        Assert.Equal(0, next.Total);
        var logged = Assert.Single(_logs.WithEvent("OriginRefused"));
        Assert.Contains("evil.example", logged.Message, StringComparison.Ordinal);
        Assert.Contains(ClientIp, logged.Message, StringComparison.Ordinal);
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_AuthRoute_RunsTheRestWithNoStoreAndTakesNoPermit()
    {
        var next = new Next(_ => AssertPermitsFree());
        var middleware = Middleware(next: next, lockout: TimeSpan.FromMinutes(1));
        var context = Request(SecureEndpointKind.Auth, method: "POST");
        context.Request.Headers.Origin = "http://chat.example";

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Total);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Equal(200, context.Response.StatusCode);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Protocol")]
    [InlineData("Sec-WebSocket-Extensions")]
    public async Task InvokeAsync_WebSocketHeaderOverTheLimit_400(string header)
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { MaxWebSocketHeaderLength = 16 }, next: next);
        var atLimit = Request(SecureEndpointKind.Hub);
        atLimit.Request.Headers[header] = new string('a', 16);
        var over = Request(SecureEndpointKind.Hub);
        over.Request.Headers[header] = new string('a', 17);

        await middleware(atLimit).WaitAsync(TimeSpan.FromSeconds(10));
        await middleware(over).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Calls(atLimit));
        Assert.Equal(0, next.Calls(over));
        AssertRefused(over, StatusCodes.Status400BadRequest, "invalid request");
    }

    [Theory]
    [InlineData(30.2, "31")]
    [InlineData(0.2, "1")]
    public async Task InvokeAsync_LockedOut_429WithTheLockoutsRetryAfter(double seconds, string retryAfter)
    {
        var next = new Next();
        var middleware = Middleware(next: next, lockout: TimeSpan.FromSeconds(seconds));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal(retryAfter, context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(0, next.Total);
        Assert.Equal(1, _rejections.Of("lockout"));
        Assert.Single(_logs.WithEvent("LockedOutConnectionRefused"));
        Assert.Equal([IPAddress.Parse(ClientIp)], _lockout.Asked);
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_LockedOutAfterAnAsynchronousLookup_429WithoutRunningTheRest()
    {
        var next = new Next();
        var middleware = Middleware(next: next);
        _lockout.Pending = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        var running = middleware(context);
        Assert.False(running.IsCompleted);
        _lockout.Pending.SetResult(TimeSpan.FromSeconds(5));
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(0, next.Total);
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_NotLockedOutAfterAnAsynchronousLookup_HoldsThePermitsWhileTheConnectionRuns()
    {
        var next = new Next(_ => Assert.Null(Admissions.TryAdmit(IPAddress.Parse(ClientIp))));
        var middleware = Middleware(next: next);
        _lockout.Pending = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        var running = middleware(context);
        _lockout.Pending.SetResult(TimeSpan.Zero);
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Total);
        Assert.Equal(200, context.Response.StatusCode);
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_LockoutStoreFails_LetsTheConnectionInAndLogs()
    {
        var next = new Next();
        var middleware = Middleware(next: next);
        _lockout.Failure = new InvalidOperationException("redis down");
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Total);
        var logged = Assert.Single(_logs.WithEvent("LockoutCheckFailed"));
        Assert.Equal("redis down", logged.Exception?.Message);
    }

    [Fact]
    public async Task InvokeAsync_LockoutLookupCanceledByTheClient_Throws()
    {
        var next = new Next();
        var middleware = Middleware(next: next);
        _lockout.Failure = new OperationCanceledException();
        var context = Request(SecureEndpointKind.Hub, upgrade: true);
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        context.RequestAborted = aborted.Token;

        await Assert.ThrowsAsync<OperationCanceledException>(() => middleware(context).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(0, next.Total);
        Assert.Empty(_logs.WithEvent("LockoutCheckFailed"));
    }

    [Fact]
    public async Task InvokeAsync_Negotiate_RunsTheRestWithoutKeepingAPermit()
    {
        var next = new Next(_ => AssertPermitsFree());
        var middleware = Middleware(new ProtectionOptions { NegotiationBurstPerIp = 1, NegotiationsPerIpPerMinute = 1 }, next: next);
        var context = Request(SecureEndpointKind.Hub, method: "POST", negotiate: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Total);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.False(Negotiations.TryTake(IPAddress.Parse(ClientIp), out _, out _));
    }

    [Fact]
    public async Task InvokeAsync_NegotiationsOverTheRate_429WithRetryAfterAndOneLogRecord()
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { NegotiationBurstPerIp = 1, NegotiationsPerIpPerMinute = 6 }, next: next);
        var first = Request(SecureEndpointKind.Hub, method: "POST", negotiate: true);
        var second = Request(SecureEndpointKind.Hub, method: "POST", negotiate: true);
        var third = Request(SecureEndpointKind.Hub, method: "POST", negotiate: true);

        await middleware(first).WaitAsync(TimeSpan.FromSeconds(10));
        await middleware(second).WaitAsync(TimeSpan.FromSeconds(10));
        await middleware(third).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, next.Total);
        AssertRefused(second, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal("10", second.Response.Headers.RetryAfter.ToString());
        AssertRefused(third, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal(2, _rejections.Of("negotiate"));
        Assert.Single(_logs.WithEvent("NegotiationRateLimited"));
    }

    [Fact]
    public async Task InvokeAsync_NegotiationsRefusedWithinAMinute_LogOnlyTheFirstRefusal()
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { NegotiationBurstPerIp = 1, NegotiationsPerIpPerMinute = 1 }, next: next);
        await middleware(Request(SecureEndpointKind.Hub, method: "POST", negotiate: true)).WaitAsync(TimeSpan.FromSeconds(10));

        await middleware(Request(SecureEndpointKind.Hub, method: "POST", negotiate: true)).WaitAsync(TimeSpan.FromSeconds(10));
        var loggedByTheFirstRefusal = _logs.WithEvent("NegotiationRateLimited").Count();
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(10));
            await middleware(Request(SecureEndpointKind.Hub, method: "POST", negotiate: true)).WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(1, next.Total);
        Assert.Equal(1, loggedByTheFirstRefusal);
        Assert.Single(_logs.WithEvent("NegotiationRateLimited"));
        Assert.Equal(4, _rejections.Of("negotiate"));
    }

    [Theory]
    // Only a POST negotiates: SignalR answers a GET to the route itself (405), and it creates no connection.
    [InlineData("GET", true)]
    // A long polling send or poll is a POST to the hub's own route: it belongs to a connection already negotiated.
    [InlineData("POST", false)]
    public async Task InvokeAsync_RequestThatIsNoNegotiation_IsNotCountedAsANegotiation(string method, bool negotiateRoute)
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { NegotiationBurstPerIp = 1, NegotiationsPerIpPerMinute = 1 }, next: next);
        var first = Request(SecureEndpointKind.Hub, method, negotiate: negotiateRoute);
        var second = Request(SecureEndpointKind.Hub, method, negotiate: negotiateRoute);

        await middleware(first).WaitAsync(TimeSpan.FromSeconds(10));
        await middleware(second).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, next.Total);
        Assert.Equal(200, second.Response.StatusCode);
        Assert.Equal(0, _rejections.Of("negotiate"));
        Assert.True(Negotiations.TryTake(IPAddress.Parse(ClientIp), out _, out _));
    }

    [Fact]
    public async Task InvokeAsync_NegotiateAtTheConnectionCap_429AndTheNegotiationStaysTaken()
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { MaxConnectionsPerIp = 1, NegotiationBurstPerIp = 1, NegotiationsPerIpPerMinute = 1 }, next: next);
        using var held = Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        var context = Request(SecureEndpointKind.Hub, method: "POST", negotiate: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(0, next.Total);
        Assert.Equal(1, _rejections.Of("connections"));
        Assert.Single(_logs.WithEvent("ConnectionCapRefused"));
        Assert.False(Negotiations.TryTake(IPAddress.Parse(ClientIp), out _, out _));
    }

    [Fact]
    public async Task InvokeAsync_NegotiateWithTheQueueFull_429AndTheNegotiationIsGivenBack()
    {
        // Arrange: no burst and no room to wait, so every new connection is refused for everyone's sake.
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { NewConnectionBurst = 1, NewConnectionQueueLimit = 0, NegotiationBurstPerIp = 1, NegotiationsPerIpPerMinute = 1 }, next: next);
        await middleware(Request(SecureEndpointKind.Hub, method: "POST", negotiate: true, remoteIp: "10.0.0.1")).WaitAsync(TimeSpan.FromSeconds(10));
        var context = Request(SecureEndpointKind.Hub, method: "POST", negotiate: true);

        // Act
        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        AssertRefused(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(1, next.Total);
        Assert.Equal(1, _rejections.Of("new-connections"));
        Assert.Single(_logs.WithEvent("NewConnectionQueueFull"));
        Assert.True(Negotiations.TryTake(IPAddress.Parse(ClientIp), out _, out _));
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_HubRequestThatIsNoStream_RunsTheRestWithoutAPermit()
    {
        // A long polling request comes and goes; its connection is admitted by the connection middleware instead.
        var next = new Next(_ => AssertPermitsFree());
        var middleware = Middleware(next: next);
        var poll = Request(SecureEndpointKind.Hub);
        var post = Request(SecureEndpointKind.Hub, method: "POST");
        post.Request.Headers.Upgrade = "websocket";
        post.Request.Headers.Accept = "text/event-stream";

        await middleware(poll).WaitAsync(TimeSpan.FromSeconds(10));
        await middleware(post).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, next.Total);
        Assert.Equal("no-store", poll.Response.Headers.CacheControl.ToString());
        Assert.Null(Admissions.TakeHandedOver(poll));
    }

    [Theory]
    [InlineData("upgrade")]
    [InlineData("sse")]
    [InlineData("connect")]
    public async Task InvokeAsync_StreamRequest_HandsThePermitsOverWhileItRunsAndTakesThemBackAfter(string transport)
    {
        // Arrange
        Admission? handedOver = null;
        var next = new Next(context =>
        {
            Assert.Null(Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
            handedOver = Admissions.TakeHandedOver(context);
            Admissions.HandOver(context, handedOver!);
        });
        var middleware = Middleware(next: next);
        var context = Request(SecureEndpointKind.Hub, upgrade: transport == "upgrade");
        if (transport == "sse")
        {
            context.Request.Headers.Accept = "Text/Event-Stream";
        }
        else if (transport == "connect")
        {
            context.Request.Method = "CONNECT";
            context.Features.Set<IHttpExtendedConnectFeature>(new ExtendedConnect());
        }

        // Act
        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(1, next.Total);
        Assert.NotNull(handedOver);
        Assert.Null(Admissions.TakeHandedOver(context));
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_StreamRequestWhoseRestThrowsAtOnce_GivesThePermitsBack()
    {
        var middleware = Middleware(next: new Next(_ => throw new InvalidOperationException("SignalR refused")));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => middleware(context).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("SignalR refused", error.Message);
        Assert.Null(Admissions.TakeHandedOver(context));
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_StreamRequestWhoseConnectionTookThePermits_LeavesThemToIt()
    {
        // The gate takes the admission; the middleware must not give it back under the gate's feet.
        Admission? taken = null;
        var middleware = Middleware(next: new Next(context => taken = Admissions.TakeHandedOver(context)));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(taken);
        Assert.Null(Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
        taken!.Dispose();
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_StreamRequestAtTheConnectionCap_429WithoutRunningTheRest()
    {
        var next = new Next();
        var middleware = Middleware(next: next);
        var held = Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(0, next.Total);
        Assert.Equal(1, _rejections.Of("connections"));
        Assert.Null(Admissions.TakeHandedOver(context));
        held!.Dispose();
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_StreamRequestWithTheQueueFull_429AndGivesThePermitsBack()
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { MaxConnectionsPerIp = 1, NewConnectionBurst = 1, NewConnectionQueueLimit = 0 }, next: next);
        await middleware(Request(SecureEndpointKind.Hub, upgrade: true, remoteIp: "10.0.0.1")).WaitAsync(TimeSpan.FromSeconds(10));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        await middleware(context).WaitAsync(TimeSpan.FromSeconds(10));

        AssertRefused(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(1, next.Total);
        Assert.Equal(1, _rejections.Of("new-connections"));
        Assert.Null(Admissions.TakeHandedOver(context));
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_StreamRequestThatWaitsForItsTurn_RunsWhenItComesHoldingThePermits()
    {
        // Arrange: one connection a second, the first one takes the burst.
        var next = new Next(request =>
        {
            if (request.Connection.RemoteIpAddress!.Equals(IPAddress.Parse(ClientIp)))
            {
                Assert.Null(Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
            }
        });
        var middleware = Middleware(new ProtectionOptions { NewConnectionsPerSecond = 1, NewConnectionBurst = 1, NewConnectionQueueLimit = 1 }, next: next);
        await middleware(Request(SecureEndpointKind.Hub, upgrade: true, remoteIp: "10.0.0.1")).WaitAsync(TimeSpan.FromSeconds(10));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);

        // Act
        var running = middleware(context);
        Assert.False(running.IsCompleted);
        Assert.Equal(1, next.Total);
        await _time.WhenTimerPendingAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(1));
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(1, next.Calls(context));
        AssertPermitsFree();
    }

    [Fact]
    public async Task InvokeAsync_StreamRequestAbandonedWhileWaitingForItsTurn_GivesThePermitsBack()
    {
        var next = new Next();
        var middleware = Middleware(new ProtectionOptions { NewConnectionsPerSecond = 1, NewConnectionBurst = 1, NewConnectionQueueLimit = 1 }, next: next);
        await middleware(Request(SecureEndpointKind.Hub, upgrade: true, remoteIp: "10.0.0.1")).WaitAsync(TimeSpan.FromSeconds(10));
        var context = Request(SecureEndpointKind.Hub, upgrade: true);
        using var aborted = new CancellationTokenSource();
        context.RequestAborted = aborted.Token;

        var running = middleware(context);
        Assert.Null(Admissions.TryAdmit(IPAddress.Parse(ClientIp)));
        aborted.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(0, next.Calls(context));
        Assert.Null(Admissions.TakeHandedOver(context));
        AssertPermitsFree();
    }

    public void Dispose()
    {
        _pace?.Dispose();
        _admissions?.Dispose();
        _rejections.Dispose();
        _loggers.Dispose();
        _meters.Dispose();
    }

    private static void AssertRefused(HttpContext context, int statusCode, string error)
    {
        Assert.Equal(statusCode, context.Response.StatusCode);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Equal(error, context.ResponseError());
    }

    // With MaxConnectionsPerIp 1, the client's address can be admitted only when no permit is held.
    private void AssertPermitsFree()
    {
        using var admission = Admissions.TryAdmit(IPAddress.Parse(ClientIp));
        Assert.NotNull(admission);
    }

    private RequestDelegate Middleware(ProtectionOptions? protection = null, Next? next = null, TimeSpan lockout = default)
    {
        protection ??= new ProtectionOptions();
        if (protection.MaxConnectionsPerIp == ProtectionOptions.DefaultMaxConnectionsPerIp)
        {
            protection.MaxConnectionsPerIp = 1;
        }

        _lockout.Lockout = lockout;
        var options = Options.Create(protection);
        _admissions = new ConnectionAdmission(options);
        _pace = new NewConnectionPace(options, _time);
        _negotiations = new NegotiationLimiter(options, _time);
        var middleware = new SecureEndpointMiddleware(
            (next ?? new Next()).InvokeAsync, options, new OriginPolicy(options), _admissions, _pace, _negotiations, _lockout,
            new SecureHubMetrics(_meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            _loggers.CreateLogger<SecureEndpointMiddleware>());
        return middleware.InvokeAsync;
    }

    private DefaultHttpContext Request(
        SecureEndpointKind? kind, string method = "GET", bool upgrade = false, bool negotiate = false, string remoteIp = ClientIp)
    {
        var context = HttpContexts.Request(method, negotiate ? "/hub/negotiate" : "/hub", remoteIp, _logs);
        if (upgrade)
        {
            context.Request.Headers.Upgrade = "WebSocket";
        }

        if (kind is { } marked)
        {
            var metadata = negotiate
                ? new EndpointMetadataCollection(new SecureEndpointMetadata(marked), new NegotiateMetadata())
                : new EndpointMetadataCollection(new SecureEndpointMetadata(marked));
            context.SetEndpoint(new Endpoint(null, metadata, "hub"));
        }

        return context;
    }

    /// <summary>The rest of the pipeline: counts its calls per request and runs <paramref name="body"/>.</summary>
    private sealed class Next(Action<HttpContext>? body = null)
    {
        private readonly List<HttpContext> _calls = [];

        public int Total => _calls.Count;

        public int Calls(HttpContext context) => _calls.Count(c => ReferenceEquals(c, context));

        public Task InvokeAsync(HttpContext context)
        {
            _calls.Add(context);
            body?.Invoke(context);
            return Task.CompletedTask;
        }
    }

    private sealed class ExtendedConnect : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => true;

        public string? Protocol => "websocket";

        public ValueTask<System.IO.Stream> AcceptAsync() => throw new NotSupportedException();
    }

    /// <summary>A lockout store that answers as told: a lockout, a failure, or an answer that comes later.</summary>
    private sealed class ScriptedLockout : IAuthenticationFailureLimiter
    {
        public TimeSpan Lockout { get; set; }

        public Exception? Failure { get; set; }

        public TaskCompletionSource<TimeSpan>? Pending { get; set; }

        public List<IPAddress?> Asked { get; } = [];

        public ValueTask<TimeSpan> GetLockoutAsync(IPAddress? address, CancellationToken cancellationToken = default)
        {
            Asked.Add(address);
            if (Failure is not null)
            {
                return ValueTask.FromException<TimeSpan>(Failure);
            }

            return Pending is not null ? new ValueTask<TimeSpan>(Pending.Task) : ValueTask.FromResult(Lockout);
        }

        public ValueTask<AuthenticationAttempt?> TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask<bool> EndAttemptAsync(AuthenticationAttempt attempt, bool failed, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask<bool> RecordFailureAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
