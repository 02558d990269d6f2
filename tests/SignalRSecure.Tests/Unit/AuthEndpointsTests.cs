using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The <c>/auth/*</c> handlers called directly: every refusal is a generic error that changes nothing, and every
/// success does exactly what it says (a session and its cookie, a ticket bound to the request, a revocation).
/// </summary>
public sealed class AuthEndpointsTests : IDisposable
{
    private const string ClientIp = "203.0.113.7";
    private const string IssuerKey = "0123456789abcdef0123456789abcdef-issuer";

    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CapturedLogs _logs = new();
    private readonly LoggerFactory _loggers;
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingSessionStore _sessions = new();
    private readonly RecordingTicketStore _tickets = new();
    private readonly OneUserDirectory _users = new();
    private readonly ClosingRegistry _connections = new();
    private readonly RateLimitRejections _rejections;
    private readonly PasswordVerificationBudget _budget;

    public AuthEndpointsTests()
    {
        _loggers = new LoggerFactory([_logs]);
        _rejections = new RateLimitRejections(_meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _budget = new PasswordVerificationBudget(Options.Create(new LoginOptions { MaxConcurrentVerifications = 1, VerificationQueueLimit = 0 }), _time);
    }

    private ILogger<AuthEndpoints> Logger => _loggers.CreateLogger<AuthEndpoints>();

    [Fact]
    public async Task Login_RightPassword_AddsASessionSetsItsCookieAndAnswersTheUser()
    {
        // Arrange
        var context = Request("POST").WithJson($$"""{"username":"alice","password":"{{OneUserDirectory.Password}}"}""");
        var throttle = new ScriptedLoginThrottle();

        // Act
        await LoginAsync(context, throttle);

        // Assert
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        using var body = JsonDocument.Parse(context.ResponseText());
        Assert.Equal("alice", body.RootElement.GetProperty("user").GetString());
        Assert.Equal(["general", "ops"], body.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        var session = Assert.Single(_sessions.Sessions);
        Assert.Equal("alice", session.User);
        Assert.Equal(["general", "ops"], session.Groups);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromHours(2), session.ExpiresAt);
        var cookie = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("SignalRSecure=", cookie, StringComparison.Ordinal);
        var sessionId = cookie["SignalRSecure=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
        Assert.Equal(SecretToken.Hash(sessionId), session.Key);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([(IPAddress.Parse(ClientIp), "alice")], throttle.Calls);
        var logged = Assert.Single(_logs.WithEvent("LoginSucceeded"));
        Assert.DoesNotContain(sessionId, logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OneUserDirectory.Password, string.Join('\n', _logs.Records), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_WrongPassword_401AndNoSession()
    {
        var context = Request("POST").WithJson("""{"username":"alice","password":"wrong"}""");

        await LoginAsync(context);

        AssertError(context, StatusCodes.Status401Unauthorized, "invalid credentials");
        Assert.Empty(_sessions.Calls);
        Assert.False(context.Response.Headers.ContainsKey("Set-Cookie"));
        Assert.Single(_logs.WithEvent("LoginFailed"));
        Assert.Equal(1, _users.Verifications);
    }

    [Theory]
    [InlineData("application/json", "not json")]
    [InlineData("application/json", "null")]
    [InlineData("text/plain", """{"username":"alice","password":"correct horse"}""")]
    public async Task Login_NoJsonBody_400BeforeAnyAttemptIsCounted(string contentType, string body)
    {
        var context = Request("POST").WithJson(body);
        context.Request.ContentType = contentType;
        var throttle = new ScriptedLoginThrottle();

        await LoginAsync(context, throttle);

        AssertError(context, StatusCodes.Status400BadRequest, "invalid request");
        Assert.Empty(throttle.Calls);
        Assert.Equal(0, _users.Verifications);
    }

    [Fact]
    public async Task Login_BodyOverTheLimit_400AndTheServersLimitIsLowered()
    {
        // Arrange: 4 KB is the limit; the declared length says more.
        var json = $$"""{"username":"alice","password":"{{OneUserDirectory.Password}}","pad":"{{new string('x', 4096)}}"}""";
        var context = Request("POST").WithJson(json);
        var limit = new BodySizeLimit();
        context.Features.Set<IHttpMaxRequestBodySizeFeature>(limit);
        var exactly = Request("POST").WithJson($$"""{"username":"alice","password":"{{OneUserDirectory.Password}}","pad":"{{new string('x', 4096 - 56)}}"}""");
        Assert.Equal(4096, exactly.Request.ContentLength);

        // Act
        await LoginAsync(context);
        await LoginAsync(exactly);

        // Assert
        AssertError(context, StatusCodes.Status400BadRequest, "invalid request");
        Assert.Equal(4096, limit.MaxRequestBodySize);
        Assert.Equal(StatusCodes.Status200OK, exactly.Response.StatusCode);
        Assert.Equal(1, _users.Verifications);
    }

    [Fact]
    public async Task Login_ServersBodyLimitIsReadOnly_LeavesIt()
    {
        var context = Request("POST").WithJson($$"""{"username":"alice","password":"{{OneUserDirectory.Password}}"}""");
        var limit = new BodySizeLimit { IsReadOnly = true, MaxRequestBodySize = 30_000_000 };
        context.Features.Set<IHttpMaxRequestBodySizeFeature>(limit);

        await LoginAsync(context);

        Assert.Equal(30_000_000, limit.MaxRequestBodySize);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
    }

    [Fact]
    public async Task Login_BodyThatFailsToArrive_400()
    {
        var context = Request("POST").WithJson("{}");
        context.Request.Body = new FailingStream();

        await LoginAsync(context);

        AssertError(context, StatusCodes.Status400BadRequest, "invalid request");
    }

    [Theory]
    [InlineData(12.1, "13")]
    [InlineData(0, "1")]
    public async Task Login_Throttled_429WithRetryAfterAndNoVerification(double seconds, string retryAfter)
    {
        var context = Request("POST").WithJson($$"""{"username":"alice","password":"{{OneUserDirectory.Password}}"}""");

        await LoginAsync(context, new ScriptedLoginThrottle(acquired: false, TimeSpan.FromSeconds(seconds)));

        AssertError(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
        Assert.Equal(retryAfter, context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(0, _users.Verifications);
        Assert.Empty(_sessions.Calls);
        Assert.Single(_logs.WithEvent("LoginThrottled"));
    }

    [Fact]
    public async Task Login_VerificationBudgetFull_503ServerBusyWithRetryAfter()
    {
        // Arrange: the only verification thread is busy and nothing may wait.
        var busy = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(_budget.TryEnqueue(_ => { started.TrySetResult(); return new ValueTask<bool>(busy.Task); }, CancellationToken.None, out var held, out _));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var context = Request("POST").WithJson($$"""{"username":"alice","password":"{{OneUserDirectory.Password}}"}""");

        // Act
        await LoginAsync(context);
        busy.SetResult(true);
        await held.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        AssertError(context, StatusCodes.Status503ServiceUnavailable, SecureEndpoints.ServerBusy);
        Assert.True(int.Parse(context.Response.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(0, _users.Verifications);
        Assert.Empty(_sessions.Calls);
        Assert.Equal(1, _rejections.Of("login-verification"));
        Assert.Single(_logs.WithEvent("LoginVerificationRefused"));
    }

    [Fact]
    public async Task IssueForSession_SignedIn_IssuesATicketBoundToTheSessionAndTheRequest()
    {
        // Arrange
        var (sessionId, session) = await SignedInAsync();
        var context = Request("POST", sessionId: sessionId, requestHeader: true);
        context.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:" + ClientIp);
        context.Request.Headers.Origin = "https://Chat.Example";
        context.Request.Headers.UserAgent = "test-agent/1.0";

        // Act
        await AuthEndpoints.IssueForSessionAsync(context, _sessions, Service(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        using var body = JsonDocument.Parse(context.ResponseText());
        var ticket = body.RootElement.GetProperty("ticket").GetString()!;
        var stored = Assert.Single(_tickets.Added);
        Assert.Equal(SecretToken.Hash(ticket), stored.Hash);
        Assert.Equal("alice", stored.User);
        Assert.Equal(session.Groups, stored.Groups);
        Assert.Equal(ClientIp, stored.ClientIp);
        Assert.Equal("https://chat.example", stored.Origin);
        Assert.Equal(session.Key, stored.SessionKey);
        Assert.Equal(UserAgentHash.Of("test-agent/1.0"), stored.UserAgentHash);
        Assert.Single(_logs.WithEvent("TicketIssued"));
        Assert.DoesNotContain(ticket, string.Join('\n', _logs.Records), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0")]
    [InlineData("1, 1")]
    public async Task IssueForSession_WithoutTheRequestHeader_403AndNoLookUp(string? header)
    {
        var (sessionId, _) = await SignedInAsync();
        var calls = _sessions.Calls.Count;
        var context = Request("POST", sessionId: sessionId);
        if (header is not null)
        {
            context.Request.Headers[SecureEndpoints.RequestHeader] = header.Split(", ");
        }

        await AuthEndpoints.IssueForSessionAsync(context, _sessions, Service(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        AssertError(context, StatusCodes.Status403Forbidden, $"missing {SecureEndpoints.RequestHeader} header");
        Assert.Equal(calls, _sessions.Calls.Count);
        Assert.Empty(_tickets.Added);
    }

    [Fact]
    public async Task IssueForSession_NotSignedIn_401AndNoTicket()
    {
        var context = Request("POST", sessionId: SecretToken.Create(), requestHeader: true);

        await AuthEndpoints.IssueForSessionAsync(context, _sessions, Service(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        AssertError(context, StatusCodes.Status401Unauthorized, "not signed in");
        Assert.Empty(_tickets.Added);
    }

    [Fact]
    public async Task Logout_SignedIn_RemovesTheSessionRevokesItsTicketsClosesTheUsersConnectionsAndDeletesTheCookie()
    {
        var (sessionId, session) = await SignedInAsync();
        var context = Request("POST", sessionId: sessionId, requestHeader: true);

        await AuthEndpoints.LogoutAsync(context, _sessions, _tickets, _connections, Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status204NoContent, context.Response.StatusCode);
        Assert.Empty(_sessions.Sessions);
        Assert.Contains($"Remove {session.Key}", _sessions.Calls);
        Assert.Equal([$"RevokeSession {session.Key}"], _tickets.Revoked);
        Assert.Equal([("alice", CloseReasons.LoggedOut)], _connections.Closed);
        var cookie = context.Response.Headers.SetCookie.ToString();
        Assert.StartsWith("SignalRSecure=;", cookie, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Single(_logs.WithEvent("LoggedOut"));
    }

    [Fact]
    public async Task Logout_NotSignedIn_204AndDeletesTheCookieWithoutRevokingAnything()
    {
        var context = Request("POST", sessionId: SecretToken.Create(), requestHeader: true);

        await AuthEndpoints.LogoutAsync(context, _sessions, _tickets, _connections, Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status204NoContent, context.Response.StatusCode);
        Assert.Empty(_tickets.Revoked);
        Assert.Empty(_connections.Closed);
        Assert.StartsWith("SignalRSecure=;", context.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
        Assert.Empty(_logs.WithEvent("LoggedOut"));
    }

    [Fact]
    public async Task Logout_WithoutTheRequestHeader_403AndTheSessionLives()
    {
        var (sessionId, _) = await SignedInAsync();
        var context = Request("POST", sessionId: sessionId);

        await AuthEndpoints.LogoutAsync(context, _sessions, _tickets, _connections, Logger).WaitAsync(TimeSpan.FromSeconds(10));

        AssertError(context, StatusCodes.Status403Forbidden, $"missing {SecureEndpoints.RequestHeader} header");
        Assert.Single(_sessions.Sessions);
        Assert.Empty(_tickets.Revoked);
        Assert.Empty(_connections.Closed);
        Assert.False(context.Response.Headers.ContainsKey("Set-Cookie"));
    }

    [Fact]
    public async Task IssueForIssuer_RightKeyAndRequest_IssuesTheTicketAsAsked()
    {
        var context = IssuerRequest("""{"user":"carol","groups":["team-*","general"],"clientIp":"::ffff:198.51.100.4","origin":"https://App.Example:443","userAgent":"agent/2"}""");

        await AuthEndpoints.IssueForIssuerAsync(context, Service(), IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        using var body = JsonDocument.Parse(context.ResponseText());
        var stored = Assert.Single(_tickets.Added);
        Assert.Equal(SecretToken.Hash(body.RootElement.GetProperty("ticket").GetString()!), stored.Hash);
        Assert.Equal("carol", stored.User);
        Assert.Equal(["team-*", "general"], stored.Groups);
        Assert.Equal("198.51.100.4", stored.ClientIp);
        Assert.Equal("https://app.example", stored.Origin);
        Assert.Null(stored.SessionKey);
        Assert.Equal(UserAgentHash.Of("agent/2"), stored.UserAgentHash);
        Assert.Single(_logs.WithEvent("TicketIssued"));
    }

    [Fact]
    public async Task IssueForIssuer_OnlyUserAndGroups_IssuesAnUnboundTicket()
    {
        var context = IssuerRequest("""{"user":"carol","groups":[]}""");

        await AuthEndpoints.IssueForIssuerAsync(context, Service(), IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        var stored = Assert.Single(_tickets.Added);
        Assert.Empty(stored.Groups);
        Assert.Null(stored.ClientIp);
        Assert.Null(stored.Origin);
        Assert.Null(stored.UserAgentHash);
    }

    [Fact]
    public async Task IssueForIssuer_ExactlyTheMostGroups_IsIssued_OneMore_400()
    {
        var groups = Enumerable.Range(0, 64).Select(i => $"\"g{i}\"").ToList();
        var most = IssuerRequest($$"""{"user":"carol","groups":[{{string.Join(',', groups)}}]}""");
        var over = IssuerRequest($$"""{"user":"carol","groups":[{{string.Join(',', groups.Append("\"g64\""))}}]}""");

        await AuthEndpoints.IssueForIssuerAsync(most, Service(), IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));
        await AuthEndpoints.IssueForIssuerAsync(over, Service(), IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status200OK, most.Response.StatusCode);
        AssertError(over, StatusCodes.Status400BadRequest, "invalid request");
        Assert.Single(_tickets.Added);
    }

    [Theory]
    [InlineData("""{"groups":["general"]}""")]
    [InlineData("""{"user":"a b","groups":["general"]}""")]
    [InlineData("""{"user":"carol"}""")]
    [InlineData("""{"user":"carol","groups":["bad group"]}""")]
    [InlineData("""{"user":"carol","groups":["general"],"clientIp":"not-an-ip"}""")]
    [InlineData("""{"user":"carol","groups":["general"],"origin":"https://app.example/path"}""")]
    [InlineData("""{"user":"carol","groups":["general"],"userAgent":"agent\r\nX-Injected: 1"}""")]
    [InlineData("""{"user":"carol","groups":["general"],"userAgent":"agent\u0000"}""")]
    [InlineData("""["carol"]""")]
    public async Task IssueForIssuer_InvalidRequest_400AndNoTicket(string json)
    {
        var context = IssuerRequest(json);

        await AuthEndpoints.IssueForIssuerAsync(context, Service(), IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        AssertError(context, StatusCodes.Status400BadRequest, "invalid request");
        Assert.Empty(_tickets.Added);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer ")]
    [InlineData("Bearer wrong-key")]
    [InlineData("bearer " + IssuerKey)]
    [InlineData("Basic " + IssuerKey)]
    [InlineData("Bearer " + IssuerKey + "x")]
    [InlineData(IssuerKey)]
    public async Task IssueForIssuer_WrongKey_401AndNoTicket(string? authorization)
    {
        var context = IssuerRequest("""{"user":"carol","groups":["general"]}""", authorization);

        await AuthEndpoints.IssueForIssuerAsync(context, Service(), IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        AssertError(context, StatusCodes.Status401Unauthorized, "invalid issuer key");
        Assert.Empty(_tickets.Added);
        var logged = Assert.Single(_logs.WithEvent("IssuerKeyRejected"));
        Assert.Contains("/auth/issue", logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(IssuerKey, logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueForIssuer_NoIssuerKeyConfigured_404WithoutABody()
    {
        var context = IssuerRequest("""{"user":"carol","groups":["general"]}""");

        await AuthEndpoints.IssueForIssuerAsync(context, Service(), Options.Create(new TicketOptions()), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status404NotFound, context.Response.StatusCode);
        Assert.Equal(string.Empty, context.ResponseText());
        Assert.Empty(_tickets.Added);
        Assert.Empty(_logs.WithEvent("IssuerKeyRejected"));
    }

    [Fact]
    public async Task Revoke_RightKey_RevokesTicketsAndSessionsAndClosesTheUsersConnections()
    {
        await SignedInAsync();
        var context = IssuerRequest(json: null);

        await AuthEndpoints.RevokeAsync(context, "alice", _tickets, _sessions, _connections, IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCodes.Status204NoContent, context.Response.StatusCode);
        Assert.Equal(["RevokeUser alice"], _tickets.Revoked);
        Assert.Contains("RemoveUser alice", _sessions.Calls);
        Assert.Empty(_sessions.Sessions);
        Assert.Equal([("alice", CloseReasons.Revoked)], _connections.Closed);
        Assert.Single(_logs.WithEvent("UserRevoked"));
    }

    [Fact]
    public async Task Revoke_InvalidUserName_400AndNothingRevoked()
    {
        await SignedInAsync();
        var context = IssuerRequest(json: null);

        await AuthEndpoints.RevokeAsync(context, "al ice", _tickets, _sessions, _connections, IssuerOptions(), Logger).WaitAsync(TimeSpan.FromSeconds(10));

        AssertError(context, StatusCodes.Status400BadRequest, "invalid request");
        Assert.Empty(_tickets.Revoked);
        Assert.Single(_sessions.Sessions);
        Assert.Empty(_connections.Closed);
    }

    [Theory]
    [InlineData("Bearer wrong-key", StatusCodes.Status401Unauthorized)]
    [InlineData(null, StatusCodes.Status404NotFound)]
    public async Task Revoke_WrongKeyOrNoneConfigured_RefusedAndNothingRevoked(string? authorization, int statusCode)
    {
        await SignedInAsync();
        var context = IssuerRequest(json: null, authorization);
        var options = statusCode == StatusCodes.Status404NotFound ? Options.Create(new TicketOptions()) : IssuerOptions();

        await AuthEndpoints.RevokeAsync(context, "alice", _tickets, _sessions, _connections, options, Logger).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(statusCode, context.Response.StatusCode);
        Assert.Empty(_tickets.Revoked);
        Assert.Single(_sessions.Sessions);
        Assert.Empty(_connections.Closed);
    }

    public void Dispose()
    {
        _budget.Dispose();
        _rejections.Dispose();
        _loggers.Dispose();
        _meters.Dispose();
    }

    private static void AssertError(HttpContext context, int statusCode, string error)
    {
        Assert.Equal(statusCode, context.Response.StatusCode);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Equal(error, context.ResponseError());
    }

    private static IOptions<TicketOptions> IssuerOptions() => Options.Create(new TicketOptions { IssuerKey = IssuerKey });

    private Task LoginAsync(HttpContext context, ILoginThrottle? throttle = null) =>
        AuthEndpoints.LoginAsync(
            context, _users, _sessions, throttle ?? new ScriptedLoginThrottle(), _budget,
            new SecureHubMetrics(_meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            Options.Create(new LoginOptions { SessionLifetime = TimeSpan.FromHours(2) }), _time, Logger).WaitAsync(TimeSpan.FromSeconds(10));

    private TicketService Service() => new(_tickets, Options.Create(new TicketOptions()), _time);

    private async Task<(string SessionId, LoginSession Session)> SignedInAsync()
    {
        var sessionId = SecretToken.Create();
        var session = new LoginSession(SecretToken.Hash(sessionId), "alice", ["general", "ops"], _time.GetUtcNow() + TimeSpan.FromHours(1));
        await _sessions.AddAsync(session);
        return (sessionId, session);
    }

    private DefaultHttpContext Request(string method, string? sessionId = null, bool requestHeader = false)
    {
        var context = HttpContexts.Request(method, "/auth/ticket", ClientIp, _logs);
        if (sessionId is not null)
        {
            context.Request.Headers.Cookie = $"SignalRSecure={sessionId}";
        }

        if (requestHeader)
        {
            context.Request.Headers[SecureEndpoints.RequestHeader] = SecureEndpoints.RequestHeaderValue;
        }

        return context;
    }

    private DefaultHttpContext IssuerRequest(string? json, string? authorization = "Bearer " + IssuerKey)
    {
        var context = HttpContexts.Request("POST", "/auth/issue", ClientIp, _logs);
        if (json is not null)
        {
            context.WithJson(json);
        }

        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        return context;
    }

    private sealed class BodySizeLimit : IHttpMaxRequestBodySizeFeature
    {
        public bool IsReadOnly { get; set; }

        public long? MaxRequestBodySize { get; set; } = 30_000_000;
    }

    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new BadHttpRequestException("Request body too large."));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException<int>(new BadHttpRequestException("Request body too large."));
    }

    /// <summary>A ticket store that keeps what is added and records revocations.</summary>
    private sealed class RecordingTicketStore : ITicketStore
    {
        private readonly ConcurrentQueue<StoredTicket> _added = new();
        private readonly ConcurrentQueue<string> _revoked = new();

        public IReadOnlyList<StoredTicket> Added => [.. _added];

        public IReadOnlyList<string> Revoked => [.. _revoked];

        public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default)
        {
            _added.Enqueue(ticket);
            return ValueTask.CompletedTask;
        }

        public ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<StoredTicket?>(null);

        public ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default)
        {
            _revoked.Enqueue($"RevokeUser {user}");
            return ValueTask.CompletedTask;
        }

        public ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default)
        {
            _revoked.Enqueue($"RevokeSession {sessionKey}");
            return ValueTask.CompletedTask;
        }
    }
}
