using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>Broken and slow peers: nothing leaks, nobody else suffers for long.</summary>
[Collection(TimingSensitive.Name)]
public sealed class FaultTests
{
    [Fact]
    public async Task TcpReset_DuringAuthenticate_AfterJoining_AndMidSend_LeaksNothing()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "3",
            ["SignalRSecure:Protection:MaxConnectionsPerIp"] = "4",
            ["SignalRSecure:Login:AttemptsPerUser"] = "100",
        });
        await using var bob = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, from: LoopbackAddress.Second);
        await bob.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Bob, from: LoopbackAddress.Second));
        await bob.CallAsync(nameof(IChatHub.JoinGroup), "general");

        for (var round = 0; round < 3; round++)
        {
            await ResetDuringAuthenticateAsync(server);
            await ResetAfterJoiningAsync(server, bob);
            await ResetMidSendAsync(server);
        }

        var (members, _) = await bob.CallAsync(nameof(IChatHub.GetGroupMembers), "general");
        Assert.Equal(["bob"], members!.Value.EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(0, await server.GetRequiredService<SignalRSecure.AspNetCore.Gate.IUserConnectionRegistry>().CloseUserConnectionsAsync("alice", CloseReasons.Revoked));

        // Every permit came back: the caps admit their full count again.
        var sockets = new List<RawHubSocket>();
        for (var i = 0; i < 3; i++)
        {
            sockets.Add(await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await RawHubSocket.TryConnectAsync(server.WebSocketHubUri));
        foreach (var socket in sockets)
        {
            await socket.DisposeAsync();
        }

        Assert.Empty(server.Logs.Records.Where(record => record.Level >= LogLevel.Error).Select(record => $"{record.Category} {record.EventId.Name}: {record.Message} {record.Exception}"));
    }

    [Fact]
    public async Task SlowConsumer_ThatStopsReading_IsClosedAfterTheSendTimeout_WhileOthersKeepReceiving()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Hub:SendTimeout"] = "00:00:01",
            ["SignalRSecure:Hub:InvocationsPerSecond"] = "100000",
            ["SignalRSecure:Hub:InvocationBurst"] = "100000",
            ["SignalRSecure:Hub:MessagesPerSecond"] = "100000",
            ["SignalRSecure:Hub:MessageBurst"] = "200000",
            ["SignalRSecure:Hub:UserInvocationsPerSecond"] = "100000",
            ["SignalRSecure:Hub:UserInvocationBurst"] = "100000",
            ["SignalRSecure:Chat:MaximumTextLength"] = "30000",
        });
        var slowControl = new SocketControl(receiveBufferSize: 4096);
        await using var slow = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, control: slowControl);
        await slow.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Bob));
        await slow.CallAsync(nameof(IChatHub.JoinGroup), "general");
        await using var steady = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await steady.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        await steady.CallAsync(nameof(IChatHub.JoinGroup), "general");
        await using var sender = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await sender.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        await sender.CallAsync(nameof(IChatHub.JoinGroup), "general");
        Assert.Equal(nameof(IChatClient.UserJoined), (await steady.ReceiveAsync()).GetProperty("target").GetString());
        var slowClosed = server.Logs.WaitForAsync(r => r.EventId.Name == "ConnectionClosed" && r.Message.Contains("client left", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var text = new string('x', 30_000);
        var clock = Stopwatch.StartNew();

        // The slow member never reads again; sending goes on until its connection is dropped.
        var sent = 0;
        System.Text.Json.JsonElement? left = null;
        while (!slowClosed.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await sender.CallAsync(nameof(IChatHub.SendToGroup), "general", text);
            sent++;
            var message = await steady.ReceiveAsync();
            if (message.GetProperty("target").GetString() == nameof(IChatClient.UserLeft))
            {
                left = message;
            }
        }

        await slowClosed;
        left ??= await ReceiveUntilAsync(steady, nameof(IChatClient.UserLeft));
        await sender.CallAsync(nameof(IChatHub.SendToGroup), "general", "after");
        var afterward = await ReceiveUntilAsync(steady, nameof(IChatClient.ReceiveMessage), "after");

        Assert.True(sent > 1, $"sent {sent}");
        Assert.Equal("bob", left.Value.GetProperty("arguments")[0].GetProperty("user").GetString());
        Assert.Equal("after", afterward.GetProperty("arguments")[0].GetProperty("text").GetString());
        Assert.Equal(["alice"], await server.GetRequiredService<IGroupRoster>().MembersAsync("general"));
    }

    // Messages already on their way to the steady member may come before the one awaited.
    private static async Task<System.Text.Json.JsonElement> ReceiveUntilAsync(RawHubSocket socket, string target, string? text = null)
    {
        while (true)
        {
            var message = await socket.ReceiveAsync();
            if (message.GetProperty("target").GetString() == target
                && (text is null || message.GetProperty("arguments")[0].GetProperty("text").GetString() == text))
            {
                return message;
            }
        }
    }

    private static async Task ResetDuringAuthenticateAsync(SecureServer server)
    {
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        var control = new SocketControl();
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, control: control);
        await socket.InvokeAsync(nameof(IChatHub.Authenticate), ticket);
        control.Reset();
        await socket.DisposeAsync();
        await WaitForClosedConnectionsAsync(server);
    }

    private static async Task ResetAfterJoiningAsync(SecureServer server, RawHubSocket member)
    {
        var control = new SocketControl();
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, control: control);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        await socket.CallAsync(nameof(IChatHub.JoinGroup), "general");
        await member.ReceiveAsync();
        control.Reset();
        await socket.DisposeAsync();
        var left = await member.ReceiveAsync();
        Assert.Equal(nameof(IChatClient.UserLeft), left.GetProperty("target").GetString());
        await WaitForClosedConnectionsAsync(server);
    }

    private static async Task ResetMidSendAsync(SecureServer server)
    {
        var control = new SocketControl();
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, control: control);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        await socket.SendRawAsync(System.Text.Encoding.UTF8.GetBytes("""{"type":1,"invocationId":"9","target":"Broadcast","arguments":["half a mess"""), endOfMessage: false);
        control.Reset();
        await socket.DisposeAsync();
        await WaitForClosedConnectionsAsync(server);
    }

    private static async Task WaitForClosedConnectionsAsync(SecureServer server)
    {
        var opened = server.Logs.WithEvent("ConnectionOpened").Select(ConnectionId).ToHashSet();
        foreach (var id in opened)
        {
            if (id is not null && !IsSecondAddress(server, id))
            {
                await server.Logs.WaitForAsync(r => r.EventId.Name == "ConnectionClosed" && ConnectionId(r) == id);
            }
        }
    }

    private static bool IsSecondAddress(SecureServer server, string connectionId) =>
        server.Logs.WithEvent("ConnectionOpened").Any(r => ConnectionId(r) == connectionId && r.Message.EndsWith(LoopbackAddress.Second.ToString(), StringComparison.Ordinal));

    private static string? ConnectionId(LogRecord record) => record.Message.Split(' ').ElementAtOrDefault(3);
}
