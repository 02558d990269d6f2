using System.Diagnostics;
using System.Net.Http.Json;
using Xunit.Abstractions;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>Limits per user: many connections of one user get no more than one user's share.</summary>
public sealed class UserLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Authenticate_OverMaxConnectionsPerUser_FailsWithTooManyConnectionsAndCloses_AnotherUserUnaffected()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:MaxConnectionsPerUser"] = "3",
        });
        var dave = new List<RawHubSocket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                dave.Add(await AuthenticatedAsync(server, "dave"));
            }

            await using var oneTooMany = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
            var (_, error) = await oneTooMany.CallAsync(nameof(IChatHub.Authenticate), await IssueAsync(server, "dave"));
            var close = await oneTooMany.ReceiveCloseAsync();
            await using var erin = await AuthenticatedAsync(server, "erin");

            Assert.Equal(HubErrors.TooManyConnections, ErrorOf(error));
            Assert.Equal(CloseReasons.TooManyConnections, close.Error);
            Assert.False(close.AllowReconnect);
            Assert.True(CloseReasons.IsTerminal(close.Error));
            Assert.Null((await dave[0].CallAsync(nameof(IChatHub.Echo), "still here")).Error);
            Assert.Single(server.Logs.WithEvent("UserConnectionCapRefused"));
        }
        finally
        {
            foreach (var socket in dave)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Invoke_OneUsersConnectionsTogether_GetNoMoreThanTheUserBudget_AnotherUserUnaffected()
    {
        const int connections = 3;
        const int perConnectionBurst = 10;
        const int userBurst = 12;
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "1",
            ["SignalRSecure:Hub:InvocationBurst"] = perConnectionBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "1",
            ["SignalRSecure:Hub:UserInvocationBurst"] = userBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SignalRSecure:Hub:RateLimitStrikesBeforeClose"] = "100",
        });
        var dave = new List<RawHubSocket>();
        try
        {
            for (var i = 0; i < connections; i++)
            {
                dave.Add(await AuthenticatedAsync(server, "dave"));
            }

            await using var erin = await AuthenticatedAsync(server, "erin");
            var clock = Stopwatch.StartNew();
            var daveOutcomes = new List<string?>();
            foreach (var socket in dave)
            {
                for (var i = 0; i < perConnectionBurst; i++)
                {
                    daveOutcomes.Add(ErrorOf((await socket.CallAsync(nameof(IChatHub.Echo), "x")).Error));
                }
            }

            var elapsed = clock.Elapsed;
            var erinOutcomes = new List<string?>();
            for (var i = 0; i < perConnectionBurst; i++)
            {
                erinOutcomes.Add(ErrorOf((await erin.CallAsync(nameof(IChatHub.Echo), "x")).Error));
            }

            // The user's bucket refills at 1 a second while the calls run; without it the three would get 30.
            var accepted = daveOutcomes.Count(e => e is null);
            output.WriteLine($"{connections} connections of one user: {accepted} of {daveOutcomes.Count} calls accepted in {elapsed.TotalMilliseconds:F0} ms; the other user {erinOutcomes.Count(e => e is null)} of {erinOutcomes.Count}");
            Assert.InRange(accepted, userBurst, userBurst + (int)Math.Ceiling(elapsed.TotalSeconds) + 1);
            Assert.Equal(daveOutcomes.Count - accepted, daveOutcomes.Count(e => e == HubErrors.RateLimited));
            Assert.All(erinOutcomes, Assert.Null);
            Assert.NotEmpty(server.Logs.WithEvent("UserInvocationRateLimited"));
        }
        finally
        {
            foreach (var socket in dave)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private static async Task<RawHubSocket> AuthenticatedAsync(SecureServer server, string user)
    {
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        Assert.Null((await socket.CallAsync(nameof(IChatHub.Authenticate), await IssueAsync(server, user))).Error);
        return socket;
    }

    private static async Task<string> IssueAsync(SecureServer server, string user)
    {
        using var client = server.CreateAuthClient();
        using var response = await client.IssueTicketAsync(new IssueTicketRequest(user, ["general"]));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>())!.Ticket;
    }

    private static string? ErrorOf(string? error) => HubErrors.TryParse(error, out var parsed) ? parsed : error;
}
