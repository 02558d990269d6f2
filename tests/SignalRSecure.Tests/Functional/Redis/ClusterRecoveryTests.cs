using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// Recovery when a node dies (the history lives on in Redis) and history when Redis itself is down, with real server
/// processes, a real nginx and the real .NET client.
/// </summary>
public sealed class ClusterRecoveryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Group = "general";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task NodeKilled_WhileBobSent20_AlicesClientReconnectsThroughTheProxyAndDeliversAll20InOrderOnce()
    {
        // Arrange: two nodes on one Redis behind nginx; alice through the proxy, bob directly on the node alice is not on.
        var settings = new Dictionary<string, string>
        {
            ["SignalRSecure:Redis:Configuration"] = redis.Server.Configuration,
            ["SignalRSecure:Redis:ChannelPrefix"] = RedisFixture.UniquePrefix(),
            ["SignalRSecure:Tickets:IssuerKey"] = SecureServer.IssuerKey,
            ["SignalRSecure:Proxy:KnownProxies:0"] = "127.0.0.1",
        };
        await using var nodeA = await ServerProcess.StartAsync(settings);
        await using var nodeB = await ServerProcess.StartAsync(settings);
        await using var proxy = await NginxProxy.StartAsync([nodeA.BaseAddress, nodeB.BaseAddress]);
        var aliceMayReconnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        aliceMayReconnect.SetResult();
        var aliceGate = aliceMayReconnect;
        var aliceOn = AuthenticationOf("alice", nodeA, nodeB);
        await using var alice = new SecureHubClient(
            new SecureHubClientOptions { ServerUrl = proxy.BaseAddress, ReconnectPolicy = new FixedDelayPolicy(TimeSpan.FromMilliseconds(100)) },
            async ct =>
            {
                await aliceGate.Task.WaitAsync(ct);
                return await IssueAsync(proxy.BaseAddress, "alice", ct);
            });
        var received = new Recorder<ChatMessage>();
        var gaps = new Recorder<HistoryGap>();
        var states = new Recorder<SecureHubStateChange>();
        alice.MessageReceived += received.Handler;
        alice.HistoryGapDetected += gaps.Handler;
        alice.StateChanged += states.Handler;
        await alice.ConnectAsync().WaitAsync(Timeout);
        await alice.JoinGroupAsync(Group).WaitAsync(Timeout);
        var (aliceNode, otherNode) = await aliceOn.WaitAsync(Timeout);
        await using var bob = new SecureHubClient(
            new SecureHubClientOptions { ServerUrl = otherNode.BaseAddress },
            ct => IssueAsync(otherNode.BaseAddress, "bob", ct));
        await bob.ConnectAsync().WaitAsync(Timeout);
        await bob.JoinGroupAsync(Group).WaitAsync(Timeout);
        await bob.SendToGroupAsync(Group, "before").WaitAsync(Timeout);
        await received.NextAsync(m => m.Text == "before", Timeout);
        var sent = Enumerable.Range(0, 20).Select(i => $"missed {i}").ToArray();

        // Act: alice's node dies; she stays away (no ticket) while bob sends 20, then comes back through the proxy.
        aliceGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await aliceNode.KillAsync();
        await states.NextAsync(s => s.State == SecureHubState.Reconnecting, Timeout);
        foreach (var text in sent)
        {
            await bob.SendToGroupAsync(Group, text).WaitAsync(Timeout);
        }

        var back = states.NextAsync(s => s.State == SecureHubState.Authenticated, Timeout);
        aliceGate.SetResult();
        await back;
        await received.NextAsync(m => m.Text == sent[^1], Timeout);
        await bob.SendToGroupAsync(Group, "after").WaitAsync(Timeout);
        await received.NextAsync(m => m.Text == "after", Timeout);

        // Assert: every message once, in id order, the missed ones before the live one, and no gap reported.
        var delivered = received.All.Where(m => m.Group == Group).ToList();
        Assert.Equal(["before", .. sent, "after"], delivered.Select(m => m.Text));
        Assert.Equal(delivered.Select(m => m.Id!).Order(Comparer<string>.Create(ChatMessageIds.Compare)), delivered.Select(m => m.Id));
        Assert.Empty(gaps.All);
        Assert.Equal(["alice", "bob"], (await alice.GetGroupMembersAsync(Group).WaitAsync(Timeout)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Redis_DownThenBack_HistoryCallsAnswerUnavailableMeanwhile_AndHistoryWorksAfterwards()
    {
        // Arrange: a Redis of this test's own (it is killed), with short timeouts so that a dead Redis fails fast.
        await using var ownRedis = await RedisServer.StartAsync();
        await using var node = await StartOnOwnRedisAsync(ownRedis);
        await using var alice = await HistoryDrill.AuthenticatedAsync(node, SecureServer.Alice);
        await using var bob = await HistoryDrill.AuthenticatedAsync(node, SecureServer.Bob);
        await HistoryDrill.CallOkAsync(alice, nameof(IChatHub.JoinGroup), Group);
        await HistoryDrill.CallOkAsync(bob, nameof(IChatHub.Broadcast), "before");
        var before = await NextMessageAsync(alice, "before");

        // Act: Redis dies.
        await ownRedis.StopAsync();
        var (_, historyError) = await alice.CallAsync(nameof(IChatHub.GetHistory), Group, null, null).WaitAsync(Timeout);
        var (_, broadcastHistoryError) = await alice.CallAsync(nameof(IChatHub.GetHistory), null, null, null).WaitAsync(Timeout);
        var (_, rejoinError) = await alice.CallAsync(nameof(IChatHub.RejoinGroup), null, before.GetProperty("id").GetString()).WaitAsync(Timeout);
        var (echo, echoError) = await alice.CallAsync(nameof(IChatHub.Echo), "still here").WaitAsync(Timeout);

        // Assert: every history call fails closed and retryable, without Redis's text; the connection stays up.
        Assert.All([historyError, broadcastHistoryError, rejoinError], error =>
        {
            Assert.True(HubErrors.TryParse(error, out var parsed));
            Assert.Equal(HubErrors.Unavailable, parsed);
            Assert.DoesNotContain("Redis", error, StringComparison.OrdinalIgnoreCase);
        });
        Assert.Null(echoError);
        Assert.Equal("still here", echo?.GetString());

        // Act: Redis comes back (empty: no persistence in tests); its client reconnects by itself.
        await ownRedis.StartAgainAsync();
        var history = await RetryUntilAvailableAsync(alice, bob);

        // Assert: the history serves what was sent since, with ids.
        var last = history.EnumerateArray().Last();
        Assert.Equal("after", last.GetProperty("text").GetString());
        Assert.True(ChatMessageIds.IsValid(last.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Redis_Down_BroadcastAnswersUnavailableAndLogsWhy()
    {
        // Arrange
        await using var ownRedis = await RedisServer.StartAsync();
        await using var node = await StartOnOwnRedisAsync(ownRedis);
        await using var alice = await HistoryDrill.AuthenticatedAsync(node, SecureServer.Alice);
        await using var bob = await HistoryDrill.AuthenticatedAsync(node, SecureServer.Bob);

        // Act: SignalR's backplane cannot publish, so nobody (not even this node's connections) would get the message.
        await ownRedis.StopAsync();
        var (_, error) = await bob.CallAsync(nameof(IChatHub.Broadcast), "during").WaitAsync(Timeout);
        var logged = await node.Logs.WaitForAsync(record => record.EventId.Name == "DeliveryFailed", Timeout);

        // Assert: the contract's retryable error, not SignalR's generic one; the backplane's text only in the log.
        Assert.True(HubErrors.TryParse(error, out var parsed), error);
        Assert.Equal(HubErrors.Unavailable, parsed);
        Assert.Contains("Broadcast", logged.Message, StringComparison.Ordinal);
        Assert.NotNull(logged.Exception);
    }

    private static Task<SecureServer> StartOnOwnRedisAsync(RedisServer ownRedis) => SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Redis:Configuration"] = $"{ownRedis.Configuration},connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000",
        ["SignalRSecure:Redis:ChannelPrefix"] = RedisFixture.UniquePrefix(),
    });

    /// <summary>Completes with (the node, the other node) once one of them logged the authentication of <paramref name="user"/>.</summary>
    private static Task<(ServerProcess On, ServerProcess Other)> AuthenticationOf(string user, ServerProcess first, ServerProcess second)
    {
        var found = new TaskCompletionSource<(ServerProcess, ServerProcess)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var marker = $"authenticated as {user}";
        void Check(string _)
        {
            if (first.Output.Contains(marker, StringComparison.Ordinal))
            {
                found.TrySetResult((first, second));
            }
            else if (second.Output.Contains(marker, StringComparison.Ordinal))
            {
                found.TrySetResult((second, first));
            }
        }

        first.LineReceived += Check;
        second.LineReceived += Check;
        Check(string.Empty);
        return found.Task;
    }

    private static async Task<string> IssueAsync(Uri server, string user, CancellationToken cancellationToken)
    {
        using var issuer = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(10) };
        issuer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecureServer.IssuerKey);
        using var response = await issuer.PostAsJsonAsync(SecureEndpoints.IssueTicket, new IssueTicketRequest(user, [Group]), cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>(cancellationToken))!.Ticket;
    }

    /// <summary>The next ReceiveMessage on <paramref name="socket"/> with <paramref name="text"/>: its message.</summary>
    private static async Task<JsonElement> NextMessageAsync(RawHubSocket socket, string text)
    {
        while (true)
        {
            var frame = await socket.ReceiveAsync().WaitAsync(Timeout);
            if (frame.TryGetProperty("target", out var target) && target.GetString() == nameof(IChatClient.ReceiveMessage)
                && frame.GetProperty("arguments")[0].GetProperty("text").GetString() == text)
            {
                return frame.GetProperty("arguments")[0].Clone();
            }
        }
    }

    /// <summary>
    /// Has bob broadcast "after" and reads the broadcast channel's history until it holds it: the Redis client reconnects
    /// on its own schedule, and until it has, a broadcast fails or is stored nowhere.
    /// </summary>
    private static async Task<JsonElement> RetryUntilAvailableAsync(RawHubSocket reader, RawHubSocket sender)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var (_, sendError) = await sender.CallAsync(nameof(IChatHub.Broadcast), "after").WaitAsync(Timeout);
            var (result, error) = sendError is null
                ? await reader.CallAsync(nameof(IChatHub.GetHistory), null, null, null).WaitAsync(Timeout)
                : (null, sendError);
            if (error is null && result!.Value.GetArrayLength() > 0)
            {
                return result.Value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the history did not come back: {error}");
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}
