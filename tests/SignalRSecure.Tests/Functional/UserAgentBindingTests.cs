using System.Net.Http.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>Tickets are bound to the <c>User-Agent</c> of the request that got them (<c>Tickets:BindToUserAgent</c>).</summary>
public sealed class UserAgentBindingTests
{
    private const string AgentA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";
    private const string AgentB = "curl/8.14.1";

    [Fact]
    public async Task CookieTicket_MintedWithUserAgentA_FailsFromUserAgentB_AndIsConsumed()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await GetCookieTicketAsync(server, AgentA);
        await using var fromB = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentB);
        await using var fromA = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentA);

        var (_, errorFromB) = await fromB.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var closeOfB = await fromB.ReceiveCloseAsync();
        var (_, errorFromAAfterwards) = await fromA.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.True(HubErrors.TryParse(errorFromB, out var parsed));
        Assert.Equal(HubErrors.AuthenticationFailed, parsed);
        Assert.Equal(CloseReasons.AuthenticationFailed, closeOfB.Error);
        Assert.NotNull(errorFromAAfterwards);
        var failures = server.Logs.WithEvent("AuthenticationFailed").Select(r => r.Message).ToList();
        Assert.Contains(failures, message => message.Contains("WrongUserAgent", StringComparison.Ordinal));
        Assert.DoesNotContain(
            server.Logs.Records,
            record => record.Category.StartsWith("SignalRSecure", StringComparison.Ordinal) && record.Message.Contains(AgentA, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CookieTicket_MintedWithUserAgentA_SucceedsFromUserAgentA()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await GetCookieTicketAsync(server, AgentA);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentA);

        var (result, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }

    [Fact]
    public async Task CookieTicket_MintedWithoutUserAgent_FailsFromAConnectionThatSendsOne()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await GetCookieTicketAsync(server, userAgent: null);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentA);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.NotNull(error);
    }

    [Fact]
    public async Task CookieTicket_WithBindingOff_SucceedsFromAnotherUserAgent()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Tickets:BindToUserAgent"] = "false" });
        var ticket = await GetCookieTicketAsync(server, AgentA);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentB);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(error);
    }

    [Fact]
    public async Task IssuerTicket_WithUserAgent_IsRedeemableOnlyWithThatUserAgent()
    {
        await using var server = await SecureServer.StartAsync();
        var first = await IssueAsync(server, AgentA);
        var second = await IssueAsync(server, AgentA);
        await using var fromB = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentB);
        await using var fromA = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentA);

        var (_, errorFromB) = await fromB.CallAsync(nameof(IChatHub.Authenticate), first);
        var (_, errorFromA) = await fromA.CallAsync(nameof(IChatHub.Authenticate), second);

        Assert.NotNull(errorFromB);
        Assert.Null(errorFromA);
    }

    [Fact]
    public async Task IssuerTicket_WithoutUserAgent_IsRedeemableWithAnyUserAgent()
    {
        await using var server = await SecureServer.StartAsync();
        var ticket = await IssueAsync(server, userAgent: null);
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: AgentB);

        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);

        Assert.Null(error);
    }

    [Fact]
    public async Task DotNetTicketSource_SendsTheClientUserAgent_WhichTheWebSocketMustMatch()
    {
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password);
        await using var withoutAgent = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var withClientAgent = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, userAgent: ClientUserAgent.Value);

        var (_, errorWithoutAgent) = await withoutAgent.CallAsync(nameof(IChatHub.Authenticate), await tickets.GetTicketAsync());
        var (_, errorWithClientAgent) = await withClientAgent.CallAsync(nameof(IChatHub.Authenticate), await tickets.GetTicketAsync());

        Assert.StartsWith("SignalRSecure.Client/", ClientUserAgent.Value, StringComparison.Ordinal);
        Assert.NotNull(errorWithoutAgent);
        Assert.Null(errorWithClientAgent);
    }

    private static async Task<string> GetCookieTicketAsync(SecureServer server, string? userAgent)
    {
        using var client = server.CreateAuthClient();
        if (userAgent is not null)
        {
            client.Http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", userAgent);
        }

        await client.LoginAsync(SecureServer.Alice);
        return (await client.GetTicketAsync()).Ticket;
    }

    private static async Task<string> IssueAsync(SecureServer server, string? userAgent)
    {
        using var client = server.CreateAuthClient();
        using var response = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"], UserAgent: userAgent));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>())!.Ticket;
    }
}
