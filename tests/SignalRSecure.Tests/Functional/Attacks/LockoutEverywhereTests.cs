using System.Net;
using System.Net.Http.Json;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Once an address is locked out, every Authenticate and Reauthenticate from it fails unread, on connections opened
/// before the lockout too; the tickets they carried stay unused.
/// </summary>
public sealed class LockoutEverywhereTests
{
    private static readonly IPAddress Elsewhere = IPAddress.Parse("127.0.0.3");

    [Fact]
    public async Task Lockout_TrippedWhileConnectionsAreOpen_RefusesTheirGoodTicketsWithoutUsingThem()
    {
        await using var server = await SecureServer.StartAsync();
        var threshold = ProtectionOptions.DefaultAuthenticationFailuresPerIp;
        await using var authenticated = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        Assert.Null((await authenticated.CallAsync(nameof(IChatHub.Authenticate), await IssueAsync(server))).Error);
        var sockets = await Task.WhenAll(Enumerable.Range(0, 2 * threshold).Select(_ => RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri)));
        try
        {
            var goodTickets = new List<string>();
            for (var i = 0; i <= threshold; i++)
            {
                goodTickets.Add(await IssueAsync(server));
            }

            var wrongTicketErrors = new List<string?>();
            for (var i = 0; i < threshold; i++)
            {
                wrongTicketErrors.Add((await sockets[i].CallAsync(nameof(IChatHub.Authenticate), SecretToken.Create())).Error);
            }

            var goodTicketErrors = new List<string?>();
            var goodTicketCloses = new List<string?>();
            for (var i = 0; i < threshold; i++)
            {
                goodTicketErrors.Add((await sockets[threshold + i].CallAsync(nameof(IChatHub.Authenticate), goodTickets[i])).Error);
                goodTicketCloses.Add((await sockets[threshold + i].ReceiveCloseAsync()).Error);
            }

            var (_, reauthenticateError) = await authenticated.CallAsync(nameof(IChatHub.Reauthenticate), goodTickets[threshold]);
            var reauthenticateClose = (await authenticated.ReceiveCloseAsync()).Error;

            Assert.All(wrongTicketErrors, e => Assert.Equal(HubErrors.AuthenticationFailed, ErrorOf(e)));
            Assert.All(goodTicketErrors, e => Assert.Equal(HubErrors.AuthenticationFailed, ErrorOf(e)));
            Assert.All(goodTicketCloses, e => Assert.Equal(CloseReasons.AuthenticationFailed, e));
            Assert.Equal(HubErrors.AuthenticationFailed, ErrorOf(reauthenticateError));
            Assert.Equal(CloseReasons.AuthenticationFailed, reauthenticateClose);
            Assert.Equal(HttpStatusCode.TooManyRequests, await RawHubSocket.TryConnectAsync(server.WebSocketHubUri));

            // None of them was used: each still authenticates once, from an address that is not locked out.
            foreach (var ticket in goodTickets)
            {
                await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, from: Elsewhere);
                Assert.Null((await socket.CallAsync(nameof(IChatHub.Authenticate), ticket)).Error);
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Lockout_TwentyWrongTicketsAtOnce_OnlyTheThresholdIsLookedAt()
    {
        await using var server = await SecureServer.StartAsync();
        var threshold = ProtectionOptions.DefaultAuthenticationFailuresPerIp;
        var sockets = await Task.WhenAll(Enumerable.Range(0, 2 * threshold).Select(_ => RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri)));
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = sockets.Select(async socket =>
            {
                await start.Task;
                return await socket.CallAsync(nameof(IChatHub.Authenticate), SecretToken.Create());
            }).ToArray();

            start.SetResult();
            var results = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(30));
            var reasons = server.Logs.WithEvent("AuthenticationFailed").Select(r => r.Message[(r.Message.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]).ToList();

            Assert.All(results, r => Assert.Equal(HubErrors.AuthenticationFailed, ErrorOf(r.Error)));
            Assert.Equal(threshold, reasons.Count(r => r == "Unknown"));
            Assert.Equal(threshold, reasons.Count(r => r == "LockedOut"));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    /// <summary>A ticket from the issuer endpoint, bound to no address, so that it can be tried from another one.</summary>
    private static async Task<string> IssueAsync(SecureServer server)
    {
        using var client = server.CreateAuthClient(from: Elsewhere);
        using var response = await client.IssueTicketAsync(new IssueTicketRequest("dave", ["general"]));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>())!.Ticket;
    }

    private static string? ErrorOf(string? error) => HubErrors.TryParse(error, out var parsed) ? parsed : error;
}
