using System.Net;
using System.Net.Http.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Names carrying a line terminator, through the hub and the issuer endpoints. With <c>$</c> in the validators,
/// "general\n" was a valid group name (answered <c>forbidden</c>), "team-a\n" a group distinct from "team-a" that a
/// user allowed <c>team-*</c> could join, and "mallory\n" a user the issuer endpoint minted tickets for.
/// </summary>
public sealed class LineTerminatorTests : IAsyncLifetime
{
    private SecureServer _server = null!;

    public static TheoryData<string> Terminators => new() { "\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029" };

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Tickets:RequestsPerIpPerMinute"] = "10000",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [MemberData(nameof(Terminators))]
    public async Task JoinGroup_AllowedNameWithTerminatorAfterOrBefore_IsInvalidGroup(string terminator)
    {
        await using var alice = await ConnectAsAsync("alice", ["general"]);
        await using var carol = await ConnectAsAsync("carol", ["team-*"]);

        var exact = await alice.CallAsync(nameof(IChatHub.JoinGroup), "general" + terminator);
        var leading = await alice.CallAsync(nameof(IChatHub.JoinGroup), terminator + "general");
        var byPattern = await carol.CallAsync(nameof(IChatHub.JoinGroup), "team-a" + terminator);
        var send = await carol.CallAsync(nameof(IChatHub.SendToGroup), "team-a" + terminator, "hello");
        var members = await carol.CallAsync(nameof(IChatHub.GetGroupMembers), "team-a" + terminator);

        Assert.All([exact, leading, byPattern, send, members], outcome => Assert.Equal(HubErrors.InvalidGroup, Error(outcome)));
        Assert.Null((await carol.CallAsync(nameof(IChatHub.JoinGroup), "team-a")).Error);
    }

    [Theory]
    [MemberData(nameof(Terminators))]
    public async Task IssuerTicket_UserWithTerminatorAfterOrBefore_Returns400AndNoTicket(string terminator)
    {
        using var client = _server.CreateAuthClient();

        using var after = await client.IssueTicketAsync(new IssueTicketRequest("mallory" + terminator, ["general"]));
        using var before = await client.IssueTicketAsync(new IssueTicketRequest(terminator + "mallory", ["general"]));

        Assert.Equal(HttpStatusCode.BadRequest, after.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, before.StatusCode);
        Assert.Equal("invalid request", (await after.Content.ReadFromJsonAsync<ErrorResponse>())!.Error);
        Assert.DoesNotContain(_server.Logs.Records, record => record.Message.Contains("mallory", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Terminators))]
    public async Task IssuerTicket_GroupPatternOriginOrUserAgentWithTerminator_Returns400(string terminator)
    {
        using var client = _server.CreateAuthClient();

        using var pattern = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["team-*" + terminator]));
        using var origin = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"], Origin: "https://app.example.com" + terminator));
        using var leadingOrigin = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"], Origin: terminator + "https://app.example.com"));

        Assert.Equal(HttpStatusCode.BadRequest, pattern.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, origin.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, leadingOrigin.StatusCode);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public async Task IssuerTicket_UserAgentWithControlCharacter_Returns400(string terminator)
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"], UserAgent: "agent/1.0" + terminator));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Terminators))]
    public async Task Revoke_UserWithTerminator_Returns400(string terminator)
    {
        using var client = _server.CreateAuthClient();

        using var response = await client.RevokeAsync("alice" + terminator);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<RawHubSocket> ConnectAsAsync(string user, string[] groups)
    {
        using var client = _server.CreateAuthClient();
        using var response = await client.IssueTicketAsync(new IssueTicketRequest(user, groups));
        response.EnsureSuccessStatusCode();
        var ticket = (await response.Content.ReadFromJsonAsync<TicketResponse>())!.Ticket;
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        Assert.Null(error);
        return socket;
    }

    private static string? Error((System.Text.Json.JsonElement? Result, string? Error) outcome) =>
        HubErrors.TryParse(outcome.Error, out var parsed) ? parsed : outcome.Error;
}
