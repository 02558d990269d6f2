using System.Text.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>History and recovery on one real node, over raw SignalR JSON.</summary>
public sealed class HistoryTests
{
    [Fact]
    public async Task RejoinGroup_AfterATcpResetWhileBobSent20_ReturnsAll20InOrderOnce()
    {
        await using var server = await SecureServer.StartAsync();

        var recovery = await HistoryDrill.RecoverAfterResetAsync(server, server, sent: 20);

        Assert.True(recovery.Recovered);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"missed {i}"), recovery.Texts);
        Assert.Equal(recovery.Ids.Order(Comparer<string>.Create(ChatMessageIds.Compare)), recovery.Ids);
        Assert.Equal(20, recovery.Ids.Distinct().Count());
    }

    [Fact]
    public async Task RejoinGroup_GapLongerThanTheHistory_ReportsNotRecovered()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Chat:HistoryLength"] = "5" });

        var recovery = await HistoryDrill.RecoverAfterResetAsync(server, server, sent: 8);

        Assert.False(recovery.Recovered);
        Assert.Equal(Enumerable.Range(3, 5).Select(i => $"missed {i}"), recovery.Texts);
    }

    [Fact]
    public async Task HistoryOff_MessagesHaveNoId_GetHistoryIsEmpty_AndRecoveryReportsAGap()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Chat:History"] = "false" });
        await using var alice = await HistoryDrill.AuthenticatedAsync(server, SecureServer.Alice);

        // Act
        await HistoryDrill.CallOkAsync(alice, nameof(IChatHub.Broadcast), "not kept");
        // The message came before the answer: the socket passed it over while waiting for the completion.
        var delivered = alice.PassedOver.Single(frame => frame.TryGetProperty("target", out var target) && target.GetString() == nameof(IChatClient.ReceiveMessage));
        var (history, historyError) = await alice.CallAsync(nameof(IChatHub.GetHistory), null, null, null).WaitAsync(HistoryDrill.Timeout);
        var (recovery, recoveryError) = await alice.CallAsync(nameof(IChatHub.RejoinGroup), "general", "1-0").WaitAsync(HistoryDrill.Timeout);

        // Assert
        Assert.Equal("not kept", delivered.GetProperty("arguments")[0].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, delivered.GetProperty("arguments")[0].GetProperty("id").ValueKind);
        Assert.Equal((null, null), (historyError, recoveryError));
        Assert.Equal(0, history!.Value.GetArrayLength());
        Assert.False(recovery!.Value.GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task GetHistory_OfAGroupNotJoinedOrNotAllowed_IsRefusedWithNotAMember()
    {
        // Arrange: alice may join ops but has not; bob may not.
        await using var server = await SecureServer.StartAsync();
        await using var alice = await HistoryDrill.AuthenticatedAsync(server, SecureServer.Alice);
        await using var bob = await HistoryDrill.AuthenticatedAsync(server, SecureServer.Bob);
        await HistoryDrill.CallOkAsync(alice, nameof(IChatHub.RejoinGroup), "ops", null);
        await HistoryDrill.CallOkAsync(alice, nameof(IChatHub.SendToGroup), "ops", "secret plans");
        await using var aliceAgain = await HistoryDrill.AuthenticatedAsync(server, SecureServer.Alice);

        // Act
        var (_, notJoined) = await aliceAgain.CallAsync(nameof(IChatHub.GetHistory), "ops", null, null).WaitAsync(HistoryDrill.Timeout);
        var (_, notAllowed) = await bob.CallAsync(nameof(IChatHub.GetHistory), "ops", null, null).WaitAsync(HistoryDrill.Timeout);

        // Assert
        Assert.True(HubErrors.TryParse(notJoined, out var first));
        Assert.True(HubErrors.TryParse(notAllowed, out var second));
        Assert.Equal((HubErrors.NotAMember, HubErrors.NotAMember), (first, second));
        Assert.DoesNotContain("secret plans", notJoined + notAllowed, StringComparison.Ordinal);
    }
}

/// <summary>The recovery drill both the one-node and the Redis tests run.</summary>
internal static class HistoryDrill
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Alice (on <paramref name="aliceNode"/>) and bob (on <paramref name="bobNode"/>) are in general; alice receives bob's
    /// first message, then her TCP connection is reset, bob sends <paramref name="sent"/> more, and alice comes back on a
    /// new connection with <c>RejoinGroup("general", lastId)</c>.
    /// </summary>
    public static async Task<Recovery> RecoverAfterResetAsync(SecureServer aliceNode, SecureServer bobNode, int sent, SecureServer? aliceReturnsTo = null)
    {
        var control = new SocketControl();
        var aliceTicket = await aliceNode.GetTicketAsync(SecureServer.Alice);
        await using var alice = await RawHubSocket.ConnectWithHandshakeAsync(aliceNode.WebSocketHubUri, control: control);
        await CallOkAsync(alice, nameof(IChatHub.Authenticate), aliceTicket);
        await CallOkAsync(alice, nameof(IChatHub.RejoinGroup), "general", null);
        await using var bob = await AuthenticatedAsync(bobNode, SecureServer.Bob);
        await CallOkAsync(bob, nameof(IChatHub.JoinGroup), "general");
        await CallOkAsync(bob, nameof(IChatHub.SendToGroup), "general", "seen");
        var lastId = await NextMessageIdAsync(alice, "seen");

        control.Reset();
        for (var i = 0; i < sent; i++)
        {
            await CallOkAsync(bob, nameof(IChatHub.SendToGroup), "general", $"missed {i}");
        }

        await using var aliceAgain = await AuthenticatedAsync(aliceReturnsTo ?? aliceNode, SecureServer.Alice);
        var (result, error) = await aliceAgain.CallAsync(nameof(IChatHub.RejoinGroup), "general", lastId).WaitAsync(Timeout);
        Assert.Null(error);
        var messages = result!.Value.GetProperty("messages").EnumerateArray().ToArray();
        return new Recovery(
            result.Value.GetProperty("recovered").GetBoolean(),
            [.. messages.Select(m => m.GetProperty("text").GetString()!)],
            [.. messages.Select(m => m.GetProperty("id").GetString()!)]);
    }

    public static async Task<RawHubSocket> AuthenticatedAsync(SecureServer node, TestUser user)
    {
        var ticket = await node.GetTicketAsync(user);
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(node.WebSocketHubUri);
        await CallOkAsync(socket, nameof(IChatHub.Authenticate), ticket);
        return socket;
    }

    public static async Task CallOkAsync(RawHubSocket socket, string target, params object?[] arguments)
    {
        var (_, error) = await socket.CallAsync(target, arguments).WaitAsync(Timeout);
        Assert.Null(error);
    }

    private static async Task<string> NextMessageIdAsync(RawHubSocket socket, string text)
    {
        while (true)
        {
            JsonElement message;
            if (socket.PassedOver.Count > 0)
            {
                message = socket.PassedOver[0];
                socket.PassedOver.RemoveAt(0);
            }
            else
            {
                message = await socket.ReceiveAsync().WaitAsync(Timeout);
            }

            if (message.TryGetProperty("target", out var target) && target.GetString() == nameof(IChatClient.ReceiveMessage)
                && message.GetProperty("arguments")[0].GetProperty("text").GetString() == text)
            {
                return message.GetProperty("arguments")[0].GetProperty("id").GetString()!;
            }
        }
    }

    public sealed record Recovery(bool Recovered, string[] Texts, string[] Ids);
}
