using Microsoft.Extensions.Logging;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>What the server logs, captured at Trace, the most any configuration can allow.</summary>
public sealed class LogHygieneTests
{
    [Fact]
    public async Task FullFlow_AtTraceLevel_LogsNoTicketPasswordSessionIdOrKey()
    {
        await using var server = await SecureServer.StartAsync();
        using var client = server.CreateAuthClient();
        await client.LoginAsync(SecureServer.Alice);
        var sessionId = client.Cookies.GetCookies(server.BaseAddress).Single().Value;
        var ticket = (await client.GetTicketAsync()).Ticket;
        var unusedTicket = (await client.GetTicketAsync()).Ticket;
        await using (var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri))
        {
            await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
            await socket.CallAsync(nameof(IChatHub.Echo), "hello");
            using var logout = await client.LogoutAsync();
            await socket.ReceiveCloseAsync();
        }

        await using (var replay = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri))
        {
            await replay.CallAsync(nameof(IChatHub.Authenticate), unusedTicket);
            await replay.ReceiveCloseAsync();
        }

        using var issuer = server.CreateAuthClient();
        using var issued = await issuer.IssueTicketAsync(new IssueTicketRequest("dave", ["general"]));
        using var wrongKey = await issuer.IssueTicketAsync(new IssueTicketRequest("dave", ["general"]), "a-wrong-issuer-key-that-must-not-be-logged");

        var records = server.Logs.Records;
        string[] secrets = [ticket, unusedTicket, SecureServer.Alice.Password, sessionId, SecureServer.IssuerKey, "a-wrong-issuer-key-that-must-not-be-logged"];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(records, record => record.ToString().Contains(secret, StringComparison.Ordinal));
        }

        Assert.NotEmpty(server.Logs.WithEvent("ConnectionOpened"));
        Assert.Single(server.Logs.WithEvent("Authenticated"));
        Assert.Contains(server.Logs.WithEvent("AuthenticationFailed"), r => r.Message.EndsWith("Unknown", StringComparison.Ordinal));
        Assert.Contains(server.Logs.WithEvent("ConnectionClosed"), r => r.Message.EndsWith(CloseReasons.LoggedOut, StringComparison.Ordinal));
        Assert.Single(server.Logs.WithEvent("IssuerKeyRejected"));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Login_WithHostileUsername_WritesOneEscapedRecord()
    {
        await using var server = await SecureServer.StartAsync();
        using var client = server.CreateAuthClient();

        using var response = await client.TryLoginAsync("mallory\r\ninfo: forged record \u001b[31m{User}", "x");

        var record = Assert.Single(server.Logs.WithEvent("LoginFailed"));
        Assert.DoesNotContain('\n', record.Message);
        Assert.DoesNotContain('\r', record.Message);
        Assert.DoesNotContain('\u001b', record.Message);
        Assert.Contains("{User}", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_WithABadLimit_FailsAtStartNamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:AuthenticationTimeout"] = "-00:00:01",
        }));

        Assert.Contains("SignalRSecure:Hub:AuthenticationTimeout", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_WithAMalformedUserHash_FailsAtStartNamingTheKey()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Users:0:PasswordHash"] = "plain-text",
        }));

        Assert.Contains("SignalRSecure:Users:0:PasswordHash", error.ToString(), StringComparison.Ordinal);
    }
}
