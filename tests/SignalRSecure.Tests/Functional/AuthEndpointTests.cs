using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class AuthEndpointTests : IAsyncLifetime
{
    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Login:AttemptsPerUser"] = "100",
        ["SignalRSecure:Login:AttemptsPerIp"] = "100",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Login_RightPassword_Returns200WithGroupsAndAStrictHttpOnlyCookie()
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.TryLoginAsync("alice", SecureServer.Alice.Password);
        var body = await response.Content.ReadFromJsonAsync<LoginResponse>();
        var cookie = response.Headers.GetValues("Set-Cookie").Single();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("alice", body!.User);
        Assert.Equal(["general", "ops"], body.Groups);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie.Split(';').Skip(1).Select(attribute => attribute.Trim().ToLowerInvariant()));
    }

    [Fact]
    public async Task Login_WrongPasswordOrUnknownUser_Returns401WithTheSameBody()
    {
        using var client = _server.CreateAuthClient();

        using var wrongPassword = await client.TryLoginAsync("alice", "not-her-password");
        using var unknownUser = await client.TryLoginAsync("mallory", "whatever");

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        Assert.Equal("""{"error":"invalid credentials"}""", await wrongPassword.Content.ReadAsStringAsync());
        Assert.Equal(await wrongPassword.Content.ReadAsStringAsync(), await unknownUser.Content.ReadAsStringAsync());
        Assert.False(wrongPassword.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("""{"username":"alice"}""")]
    [InlineData("""not json""")]
    [InlineData("""{"username":42,"password":[]}""")]
    public async Task Login_MalformedBody_Returns400(string body)
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.Http.PostAsync(SecureEndpoints.Login, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_OverThePerUserLimit_Returns429WithRetryAfter_ForKnownAndUnknownUsersAlike()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Login:AttemptsPerUser"] = "2" });
        using var client = server.CreateAuthClient();
        foreach (var user in new[] { "alice", "nobody" })
        {
            await client.TryLoginAsync(user, "wrong");
            await client.TryLoginAsync(user, "wrong");
        }

        using var knownLimited = await client.TryLoginAsync("alice", SecureServer.Alice.Password);
        using var unknownLimited = await client.TryLoginAsync("nobody", "wrong");
        using var otherUser = await client.TryLoginAsync("bob", SecureServer.Bob.Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, knownLimited.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, unknownLimited.StatusCode);
        Assert.NotNull(knownLimited.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, otherUser.StatusCode);
    }

    [Fact]
    public async Task Ticket_WithSessionAndHeader_Returns200WithSingleUseTicket()
    {
        using var client = _server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);

        using var response = await client.TryGetTicketAsync();
        var ticket = await response.Content.ReadFromJsonAsync<TicketResponse>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(43, ticket!.Ticket.Length);
        Assert.True(ticket.ExpiresAt > DateTimeOffset.UtcNow);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Ticket_WithoutSession_Returns401()
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.TryGetTicketAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Ticket_WithoutTheHeader_Returns403()
    {
        using var client = _server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);

        using var response = await client.TryGetTicketAsync(withHeader: false);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Ticket_FromAForeignOrigin_Returns403WithoutCorsHeaders()
    {
        using var client = _server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);
        using var request = new HttpRequestMessage(HttpMethod.Post, SecureEndpoints.Ticket);
        request.Headers.Add(SecureEndpoints.RequestHeader, SecureEndpoints.RequestHeaderValue);
        request.Headers.Add("Origin", "http://evil.example");

        using var response = await client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Preflight_FromAForeignOrigin_IsNotGranted()
    {
        using var client = _server.CreateAuthClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, SecureEndpoints.Ticket);
        request.Headers.Add("Origin", "http://evil.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", SecureEndpoints.RequestHeader);

        using var response = await client.Http.SendAsync(request);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Headers"));
    }

    [Fact]
    public async Task Logout_EndsTheSession_RevokesItsUnusedTickets_AndClosesLiveConnections()
    {
        using var client = _server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);
        var liveTicket = (await client.GetTicketAsync()).Ticket;
        var unusedTicket = (await client.GetTicketAsync()).Ticket;
        await using var live = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await live.CallAsync(nameof(IChatHub.Authenticate), liveTicket);
        var clock = Stopwatch.StartNew();

        using var logout = await client.LogoutAsync();
        var close = await live.ReceiveCloseAsync();
        var closedAfter = clock.Elapsed;
        using var ticketAfterLogout = await client.TryGetTicketAsync();
        await using var late = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var (_, lateError) = await late.CallAsync(nameof(IChatHub.Authenticate), unusedTicket);

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Equal(CloseReasons.LoggedOut, close.Error);
        Assert.True(closedAfter < TimeSpan.FromSeconds(1), $"closed after {closedAfter}");
        Assert.Equal(HttpStatusCode.Unauthorized, ticketAfterLogout.StatusCode);
        Assert.NotNull(lateError);
    }

    [Fact]
    public async Task Logout_WithoutTheHeader_Returns403AndKeepsTheSession()
    {
        using var client = _server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);

        using var logout = await client.LogoutAsync(withHeader: false);
        using var ticket = await client.TryGetTicketAsync();

        Assert.Equal(HttpStatusCode.Forbidden, logout.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ticket.StatusCode);
    }

    [Fact]
    public async Task IssuerTicket_WithTheKey_AuthenticatesThatUserWithThoseGroups()
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["team-*"], ClientIp: "127.0.0.1"));
        var ticket = await response.Content.ReadFromJsonAsync<TicketResponse>();
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var (auth, _) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket!.Ticket);
        var (_, joinError) = await socket.CallAsync(nameof(IChatHub.JoinGroup), "team-red");

        Assert.Equal("dave", auth!.Value.GetProperty("user").GetString());
        Assert.Null(joinError);
    }

    [Theory]
    [InlineData("wrong-key-wrong-key-wrong-key-wrong-key")]
    [InlineData("")]
    [InlineData(null)]
    public async Task IssuerTicket_WithoutTheRightKey_Returns401(string? key)
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"]), key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("bad user", "general", null)]
    [InlineData("dave", "bad group", null)]
    [InlineData("dave", "general", "not-an-ip")]
    public async Task IssuerTicket_InvalidRequest_Returns400(string user, string group, string? clientIp)
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.IssueTicketAsync(new IssueTicketRequest(user, [group], clientIp));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task IssuerEndpoints_WithoutAConfiguredKey_Return404()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Tickets:IssuerKey"] = null });
        using var client = server.CreateAuthClient();

        using var issue = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"]));
        using var revoke = await client.RevokeAsync("alice");

        Assert.Equal(HttpStatusCode.NotFound, issue.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
    }

    [Fact]
    public async Task Revoke_ClosesTheUsersConnections_AndEndsItsSessions()
    {
        using var alice = _server.CreateAuthClient();
        await alice.LoginAsync(SecureServer.Alice);
        await using var live = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await live.CallAsync(nameof(IChatHub.Authenticate), (await alice.GetTicketAsync()).Ticket);
        using var issuer = _server.CreateAuthClient();

        using var revoke = await issuer.RevokeAsync("alice");
        var close = await live.ReceiveCloseAsync();
        using var ticketAfterRevoke = await alice.TryGetTicketAsync();

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(CloseReasons.Revoked, close.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, ticketAfterRevoke.StatusCode);
    }

    [Fact]
    public async Task Health_Returns200()
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.Http.GetAsync(SecureEndpoints.Health);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

}
