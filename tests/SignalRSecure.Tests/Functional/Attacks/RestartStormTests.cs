using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Xunit.Abstractions;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// A server restart under many connected .NET clients on automatic reconnect, whose tickets come from an auth server
/// holding the issuer key. 100 clients by default; SIGNALRSECURE_ATTACK_SCALE=full runs 500.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class RestartStormTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ServerRestart_UnderManyClients_EachReauthenticatesWithAFreshTicketAndRejoins_OldTicketsAreRejected()
    {
        var count = Environment.GetEnvironmentVariable("SIGNALRSECURE_ATTACK_SCALE") == "full" ? 500 : 100;
        var settings = new Dictionary<string, string?>
        {
            // One loopback address stands for many users here, so its per-IP caps are raised to the crowd's size.
            ["SignalRSecure:Protection:MaxConnectionsPerIp"] = $"{count * 2}",
            ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = $"{count * 2}",
            ["SignalRSecure:Tickets:RequestsPerIpPerMinute"] = "100000",
        };
        var first = await SecureServer.StartAsync(settings);
        var url = first.BaseAddress;
        using var issuer = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        issuer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecureServer.IssuerKey);
        var clients = new List<(SecureHubClient Client, Recorder<SecureHubStateChange> States)>();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 20 }, async (i, _) =>
            {
                var client = new SecureHubClient(DotNetClientHarness.Options(first), ct => IssueAsync(issuer, $"user{i}", ct));
                var states = new Recorder<SecureHubStateChange>();
                client.StateChanged += states.Handler;
                lock (clients)
                {
                    clients.Add((client, states));
                }

                await client.ConnectAsync().WaitAsync(DotNetClientHarness.Timeout);
                await client.JoinGroupAsync("storm").WaitAsync(DotNetClientHarness.Timeout);
            });
            var staleTicket = await IssueAsync(issuer, "latecomer", CancellationToken.None);

            await first.DisposeAsync();
            await Task.WhenAll(clients.Select(c => c.States.NextAsync(s => s.State == SecureHubState.Reconnecting)));
            var clock = Stopwatch.StartNew();
            await using var second = await SecureServer.StartAsync(settings, url: url.ToString());
            await Task.WhenAll(clients.Select(c => c.States.NextAsync(s => s.State == SecureHubState.Authenticated, RecoveryBound)));
            var recovered = clock.Elapsed;
            var members = await clients[0].Client.GetGroupMembersAsync("storm").WaitAsync(DotNetClientHarness.Timeout);
            var echoes = await Task.WhenAll(clients.Select(c => c.Client.EchoAsync("after the restart").WaitAsync(DotNetClientHarness.Timeout)));
            await using var latecomer = await RawHubSocket.ConnectWithHandshakeAsync(second.WebSocketHubUri);
            var (_, staleError) = await latecomer.CallAsync(nameof(IChatHub.Authenticate), staleTicket);
            output.WriteLine($"{count} clients re-authenticated and re-joined {recovered.TotalMilliseconds:F0} ms after the new server started");

            Assert.InRange(recovered, TimeSpan.Zero, RecoveryBound);
            Assert.Equal(count, members.Count);
            Assert.All(echoes, echo => Assert.Equal("after the restart", echo));
            Assert.All(clients, c => Assert.Equal(SecureHubState.Authenticated, c.Client.State));
            Assert.Equal(count, second.Logs.WithEvent("Authenticated").Count());
            Assert.Empty(second.Logs.WithEvent("PreAuthenticationViolation"));
            Assert.True(HubErrors.TryParse(staleError, out var parsed) && parsed == HubErrors.AuthenticationFailed);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.Client.DisposeAsync().AsTask()));
            await first.DisposeAsync();
        }
    }

    private static async Task<string> IssueAsync(HttpClient issuer, string user, CancellationToken cancellationToken)
    {
        using var response = await issuer.PostAsJsonAsync(SecureEndpoints.IssueTicket, new IssueTicketRequest(user, ["storm"], ClientIp: "127.0.0.1"), cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>(cancellationToken))!.Ticket;
    }
}
