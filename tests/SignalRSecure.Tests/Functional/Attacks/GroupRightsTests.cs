using System.Net.Http.Json;
using System.Text.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>A user whose newer ticket allows fewer groups keeps none of the memberships it no longer allows.</summary>
public sealed class GroupRightsTests
{
    [Fact]
    public async Task Reauthenticate_NarrowerTicket_EndsTheMembershipOnEveryConnectionOfTheUser()
    {
        await using var server = await SecureServer.StartAsync();
        await using var dave = await AuthenticatedAsync(server, "dave", "general", "secret");
        await using var daveAgain = await AuthenticatedAsync(server, "dave", "general", "secret");
        await using var erin = await AuthenticatedAsync(server, "erin", "secret");
        foreach (var socket in new[] { dave, daveAgain, erin })
        {
            Assert.Null((await socket.CallAsync(nameof(IChatHub.JoinGroup), "secret")).Error);
        }

        var (_, reauthenticateError) = await dave.CallAsync(nameof(IChatHub.Reauthenticate), await IssueAsync(server, "dave", "general"));
        var sendError = (await dave.CallAsync(nameof(IChatHub.SendToGroup), "secret", "still in?")).Error;
        var membersError = (await daveAgain.CallAsync(nameof(IChatHub.GetGroupMembers), "secret")).Error;
        var rejoinError = (await daveAgain.CallAsync(nameof(IChatHub.JoinGroup), "secret")).Error;
        var (members, _) = await erin.CallAsync(nameof(IChatHub.GetGroupMembers), "secret");
        Assert.Null((await erin.CallAsync(nameof(IChatHub.SendToGroup), "secret", "after the change")).Error);
        Assert.Null((await erin.CallAsync(nameof(IChatHub.Broadcast), "marker")).Error);
        var daveReceived = await ReceiveUntilMarkerAsync(dave);
        var daveAgainReceived = await ReceiveUntilMarkerAsync(daveAgain);

        Assert.Null(reauthenticateError);
        Assert.Equal(HubErrors.NotAMember, ErrorOf(sendError));
        Assert.Equal(HubErrors.NotAMember, ErrorOf(membersError));
        Assert.Equal(HubErrors.Forbidden, ErrorOf(rejoinError));
        Assert.Equal(["erin"], members!.Value.EnumerateArray().Select(m => m.GetString()));
        Assert.Single(UserLefts(dave.PassedOver), "secret/dave");
        Assert.Single(UserLefts(daveAgain.PassedOver), "secret/dave");
        Assert.Single(UserLefts(erin.PassedOver), "secret/dave");
        Assert.DoesNotContain(daveReceived.Concat(daveAgainReceived), m => m.GetProperty("target").GetString() == nameof(IChatClient.ReceiveMessage)
            && m.GetProperty("arguments")[0].GetProperty("group").GetString() == "secret");
    }

    private static async Task<RawHubSocket> AuthenticatedAsync(SecureServer server, string user, params string[] groups)
    {
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        Assert.Null((await socket.CallAsync(nameof(IChatHub.Authenticate), await IssueAsync(server, user, groups))).Error);
        return socket;
    }

    /// <summary>A ticket from the issuer endpoint, bound to nothing.</summary>
    private static async Task<string> IssueAsync(SecureServer server, string user, params string[] groups)
    {
        using var client = server.CreateAuthClient();
        using var response = await client.IssueTicketAsync(new IssueTicketRequest(user, groups));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>())!.Ticket;
    }

    /// <summary>Everything the socket receives up to the broadcast <c>marker</c>.</summary>
    private static async Task<List<JsonElement>> ReceiveUntilMarkerAsync(RawHubSocket socket)
    {
        var received = new List<JsonElement>();
        while (true)
        {
            var message = await socket.ReceiveAsync();
            received.Add(message);
            if (message.GetProperty("type").GetInt32() == 1 && message.GetProperty("target").GetString() == nameof(IChatClient.ReceiveMessage)
                && message.GetProperty("arguments")[0].GetProperty("text").GetString() == "marker")
            {
                return received;
            }
        }
    }

    private static IEnumerable<string> UserLefts(IEnumerable<JsonElement> messages) =>
        messages.Where(m => m.GetProperty("target").GetString() == nameof(IChatClient.UserLeft))
            .Select(m => $"{m.GetProperty("arguments")[0].GetProperty("group").GetString()}/{m.GetProperty("arguments")[0].GetProperty("user").GetString()}");

    private static string? ErrorOf(string? error) => HubErrors.TryParse(error, out var parsed) ? parsed : error;
}
