using System.Text.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The hub over SignalR's MessagePack protocol (<c>SignalRSecure:Hub:Protocols</c>), with raw frames and with the .NET
/// client, beside JSON on the same server: the same calls, the same answers, the same refusals.
/// </summary>
public sealed class MessagePackTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = DotNetClientHarness.Timeout;

    private SecureServer _server = null!;

    public static TheoryData<string> Protocols => new() { RawHubSocket.JsonProtocol, MessagePackFrame.ProtocolName };

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Hub:Protocols"] = "json,messagepack",
        ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = "100",
        ["SignalRSecure:Protection:AuthenticationFailuresPerIp"] = "1000",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task RawClient_AuthenticatesEchoesBroadcastsAndTalksInAGroup(string protocol)
    {
        // Arrange: alice and bob signed in, both in general.
        await using var alice = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri, protocol: protocol);
        await using var bob = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri, protocol: protocol);
        var (authenticated, error) = await alice.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));
        Assert.Null(error);
        await bob.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Bob));
        await alice.CallAsync(nameof(IChatHub.JoinGroup), "general");
        await bob.CallAsync(nameof(IChatHub.JoinGroup), "general");

        // Act
        var (echo, _) = await alice.CallAsync(nameof(IChatHub.Echo), "hello");
        await alice.CallAsync(nameof(IChatHub.Broadcast), "to all");
        var broadcast = await NextInvocationAsync(bob, nameof(IChatClient.ReceiveMessage));
        await alice.CallAsync(nameof(IChatHub.SendToGroup), "general", "to general");
        var grouped = await NextInvocationAsync(bob, nameof(IChatClient.ReceiveMessage));
        var (members, _) = await bob.CallAsync(nameof(IChatHub.GetGroupMembers), "general");

        // Assert
        Assert.Equal("alice", authenticated!.Value.GetProperty("user").GetString());
        Assert.Equal("hello", echo!.Value.GetString());
        Assert.Equal(("alice", "to all"), MessageOf(broadcast));
        Assert.Equal(("alice", "to general"), MessageOf(grouped));
        Assert.Equal("general", grouped.GetProperty("arguments")[0].GetProperty("group").GetString());
        Assert.Equal(["alice", "bob"], members!.Value.EnumerateArray().Select(member => member.GetString()).Order());
    }

    [Fact]
    public async Task RawClients_OfBothProtocols_ReachEachOther()
    {
        await using var json = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await using var binary = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri, protocol: MessagePackFrame.ProtocolName);
        await json.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));
        await binary.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Bob));

        await binary.CallAsync(nameof(IChatHub.Broadcast), "from messagepack");
        var received = await NextInvocationAsync(json, nameof(IChatClient.ReceiveMessage));

        Assert.Equal(("bob", "from messagepack"), MessageOf(received));
    }

    [Fact]
    public async Task DotNetClient_OverMessagePack_AuthenticatesEchoesAndReceivesGroupMessages()
    {
        // Arrange
        await using var alice = Create(SecureServer.Alice, SecureHubProtocol.MessagePack);
        await using var bob = Create(SecureServer.Bob, SecureHubProtocol.Json);
        var bobReceived = new Recorder<ChatMessage>();
        bob.MessageReceived += bobReceived.Handler;

        // Act
        var authentication = await alice.ConnectAsync().WaitAsync(Timeout);
        await bob.ConnectAsync().WaitAsync(Timeout);
        var echo = await alice.EchoAsync("hello").WaitAsync(Timeout);
        await bob.JoinGroupAsync("general").WaitAsync(Timeout);
        await alice.JoinGroupAsync("general").WaitAsync(Timeout);
        await alice.SendToGroupAsync("general", "binary hello").WaitAsync(Timeout);
        var message = await bobReceived.NextAsync();
        var members = await alice.GetGroupMembersAsync("general").WaitAsync(Timeout);

        // Assert
        Assert.Equal("alice", authentication.User);
        Assert.Equal(SecureServer.Alice.Groups, authentication.Groups);
        Assert.True(authentication.ExpiresAt > DateTimeOffset.UtcNow);
        Assert.Equal("hello", echo);
        Assert.Equal(("alice", "binary hello", "general"), (message.From, message.Text, message.Group));
        Assert.Equal(["alice", "bob"], members.Order());
    }

    [Fact]
    public async Task DotNetClient_MessagePackAgainstAJsonOnlyServer_FailsToConnect()
    {
        await using var server = await SecureServer.StartAsync();
        await using var client = new SecureHubClient(
            new SecureHubClientOptions { ServerUrl = server.BaseAddress, Protocol = SecureHubProtocol.MessagePack, ReconnectPolicy = new NoRetryPolicy() },
            _ => DotNetClientHarness.GetTicketAsync(server, SecureServer.Alice));

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync().WaitAsync(Timeout));
        Assert.NotEqual(SecureHubState.Authenticated, client.State);
    }

    [Fact]
    public async Task Handshake_MessagePackWhenOnlyJsonIsEnabled_IsRefusedBySignalR()
    {
        await using var server = await SecureServer.StartAsync();
        await using var socket = await RawHubSocket.ConnectAsync(server.WebSocketHubUri, protocol: MessagePackFrame.ProtocolName);

        var handshake = await Assert.ThrowsAsync<InvalidOperationException>(socket.HandshakeAsync);

        Assert.Contains("'messagepack' is not supported", handshake.Message, StringComparison.Ordinal);
        await socket.WaitForSocketCloseAsync();
    }

    [Fact]
    public async Task Handshake_JsonWhenOnlyMessagePackIsEnabled_IsRefused_WhileMessagePackAuthenticates()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Hub:Protocols"] = "messagepack" });
        await using var json = await RawHubSocket.ConnectAsync(server.WebSocketHubUri);
        await using var binary = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri, protocol: MessagePackFrame.ProtocolName);

        var handshake = await Assert.ThrowsAsync<InvalidOperationException>(json.HandshakeAsync);
        var (result, error) = await binary.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));

        Assert.Contains("'json' is not supported", handshake.Message, StringComparison.Ordinal);
        Assert.Null(error);
        Assert.Equal("alice", result!.Value.GetProperty("user").GetString());
    }

    [Fact]
    public async Task Server_WithAnUnknownProtocolConfigured_FailsAtStartNamingTheKey()
    {
        var start = SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Hub:Protocols"] = "json,protobuf" });

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => start);

        Assert.Contains("SignalRSecure:Hub:Protocols", failure.ToString(), StringComparison.Ordinal);
    }

    private SecureHubClient Create(TestUser user, SecureHubProtocol protocol) => new(
        new SecureHubClientOptions { ServerUrl = _server.BaseAddress, Protocol = protocol, ReconnectPolicy = new NoRetryPolicy() },
        _ => DotNetClientHarness.GetTicketAsync(_server, user));

    private static (string?, string?) MessageOf(JsonElement invocation)
    {
        var message = invocation.GetProperty("arguments")[0];
        return (message.GetProperty("from").GetString(), message.GetProperty("text").GetString());
    }

    /// <summary>The next invocation of <paramref name="target"/> the server sends, including those a call read past.</summary>
    private static async Task<JsonElement> NextInvocationAsync(RawHubSocket socket, string target)
    {
        var passed = socket.PassedOver.FindIndex(message => message.GetProperty("target").GetString() == target);
        if (passed >= 0)
        {
            var found = socket.PassedOver[passed];
            socket.PassedOver.RemoveAt(passed);
            return found;
        }

        while (true)
        {
            var message = await socket.ReceiveAsync();
            if (message.GetProperty("type").GetInt32() == 1 && message.GetProperty("target").GetString() == target)
            {
                return message;
            }
        }
    }

    private sealed class NoRetryPolicy : Microsoft.AspNetCore.SignalR.Client.IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(Microsoft.AspNetCore.SignalR.Client.RetryContext retryContext) => null;
    }
}
