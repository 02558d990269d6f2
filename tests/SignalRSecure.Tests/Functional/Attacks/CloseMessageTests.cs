using System.Text.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Every way the gate closes a connection sends exactly one close message, with the reason and the reconnect flag of the
/// close-reason table, read from the raw frames up to the socket's end.
/// </summary>
public sealed class CloseMessageTests : IAsyncLifetime
{
    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Hub:MaximumReceiveMessageSize"] = "4096",
        ["SignalRSecure:Hub:InvocationsPerSecond"] = "1",
        ["SignalRSecure:Hub:InvocationBurst"] = "2",
        ["SignalRSecure:Hub:RateLimitStrikesBeforeClose"] = "2",
        ["SignalRSecure:Hub:MessagesPerSecond"] = "10",
        ["SignalRSecure:Hub:MessageBurst"] = "20",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task MessageBeforeAuthenticate_SendsOneCloseMessage()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.InvokeAsync(nameof(IChatHub.Echo), "too early");

        AssertOneClose(await socket.ReceiveUntilSocketClosesAsync(), CloseReasons.AuthenticationRequired);
    }

    [Fact]
    public async Task RefusedTicket_SendsTheErrorThenOneCloseMessage()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);

        await socket.InvokeAsync(nameof(IChatHub.Authenticate), "not-a-ticket");
        var messages = await socket.ReceiveUntilSocketClosesAsync();

        Assert.Equal(3, messages[0].GetProperty("type").GetInt32());
        AssertOneClose(messages, CloseReasons.AuthenticationFailed);
    }

    [Fact]
    public async Task Logout_SendsOneCloseMessage()
    {
        using var auth = _server.CreateAuthClient();
        await auth.LoginAsync(SecureServer.Alice);
        await using var socket = await AuthenticatedAsync((await auth.GetTicketAsync()).Ticket);

        (await auth.LogoutAsync()).EnsureSuccessStatusCode();

        AssertOneClose(await socket.ReceiveUntilSocketClosesAsync(), CloseReasons.LoggedOut);
    }

    [Fact]
    public async Task InvocationsOverTheRateLimit_SendOneRetryableCloseMessage()
    {
        await using var socket = await AuthenticatedAsync(await _server.GetTicketAsync(SecureServer.Alice));

        for (var i = 0; i < 6; i++)
        {
            await socket.InvokeAsync(nameof(IChatHub.Echo), "again");
        }

        AssertOneClose(await socket.ReceiveUntilSocketClosesAsync(), CloseReasons.RateLimited);
    }

    [Fact]
    public async Task MessageOverTheSizeCap_SendsOneCloseMessageInsteadOfSignalRsOwn()
    {
        await using var socket = await AuthenticatedAsync(await _server.GetTicketAsync(SecureServer.Alice));

        await socket.InvokeAsync(nameof(IChatHub.Echo), new string('x', 8192));

        AssertOneClose(await socket.ReceiveUntilSocketClosesAsync(), CloseReasons.MessageTooLarge);
    }

    private static void AssertOneClose(IReadOnlyList<JsonElement> messages, string reason)
    {
        var close = Assert.Single(messages, message => message.GetProperty("type").GetInt32() == 7);
        Assert.Equal(reason, close.GetProperty("error").GetString());
        var allowReconnect = close.TryGetProperty("allowReconnect", out var flag) && flag.GetBoolean();
        Assert.Equal(!CloseReasons.IsTerminal(reason), allowReconnect);
        Assert.Equal(7, messages[^1].GetProperty("type").GetInt32());
    }

    private async Task<RawHubSocket> AuthenticatedAsync(string ticket)
    {
        var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        Assert.Null(error);
        return socket;
    }
}
