using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// What the .NET client puts on the wire when it connects over SignalR's own WebSockets transport: the requests the
/// server sees, recorded ahead of everything else in its pipeline.
/// </summary>
public sealed class DotNetClientTransportTests
{
    private static readonly TimeSpan Timeout = DotNetClientHarness.Timeout;

    [Fact]
    public async Task ConnectAsync_OverSignalRsTransport_OneUpgradeWithTheClientUserAgentAndNoTicketOrNegotiate()
    {
        // Arrange
        var requests = new ConcurrentQueue<RecordedRequest>();
        await using var server = await SecureServer.StartAsync(services: s => s.AddSingleton<IStartupFilter>(new RecordRequests(requests)));
        var issued = new Recorder<string>();
        await using var client = new SecureHubClient(DotNetClientHarness.Options(server), async _ =>
        {
            var ticket = await DotNetClientHarness.GetTicketAsync(server, SecureServer.Alice);
            issued.Add(ticket);
            return ticket;
        });

        // Act
        await client.ConnectAsync().WaitAsync(Timeout);
        await client.EchoAsync("hello").WaitAsync(Timeout);

        // Assert: negotiate skipped, one WebSocket upgrade, the User-Agent the ticket is bound to, no Origin by default,
        // and the ticket in no address and no header of any request.
        var hubRequests = requests.Where(r => r.Path.StartsWith(ChatEndpoints.Hub, StringComparison.Ordinal)).ToList();
        var upgrade = Assert.Single(hubRequests);
        var ticket = Assert.Single(issued.All);
        Assert.Equal((HttpMethods.Get, ChatEndpoints.Hub, ""), (upgrade.Method, upgrade.Path, upgrade.Query));
        Assert.Equal("websocket", upgrade.Header("Upgrade"), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(ClientUserAgent.Value, upgrade.Header(ClientUserAgent.HeaderName));
        Assert.Null(upgrade.Header("Origin"));
        Assert.Null(upgrade.Header("Authorization"));
        Assert.DoesNotContain(requests, r => r.Path.EndsWith("/negotiate", StringComparison.Ordinal));
        Assert.DoesNotContain(requests, r => r.Query.Contains(ticket, StringComparison.Ordinal)
            || r.Headers.Any(h => h.Value.Contains(ticket, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ConnectAsync_WithConfigureWebSocket_SendsItsHeadersAndMayReplaceTheUserAgent()
    {
        // Arrange: the ticket is asked for with the replacement User-Agent, as the options' documentation asks.
        const string agent = "SignalRSecure.Tests/1.0";
        var requests = new ConcurrentQueue<RecordedRequest>();
        await using var server = await SecureServer.StartAsync(services: s => s.AddSingleton<IStartupFilter>(new RecordRequests(requests)));
        var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        var options = new SecureHubClientOptions
        {
            ServerUrl = server.BaseAddress,
            ConfigureWebSocket = webSocket =>
            {
                webSocket.SetRequestHeader("Origin", origin);
                webSocket.SetRequestHeader(ClientUserAgent.HeaderName, agent);
            },
        };
        await using var client = new SecureHubClient(options, async _ =>
        {
            using var auth = server.CreateAuthClient(origin);
            auth.Http.DefaultRequestHeaders.TryAddWithoutValidation(ClientUserAgent.HeaderName, agent);
            await auth.LoginAsync(SecureServer.Alice);
            return (await auth.GetTicketAsync()).Ticket;
        });

        // Act
        var authentication = await client.ConnectAsync().WaitAsync(Timeout);

        // Assert
        var upgrade = Assert.Single(requests, r => r.Path == ChatEndpoints.Hub);
        Assert.Equal("alice", authentication.User);
        Assert.Equal(origin, upgrade.Header("Origin"));
        Assert.Equal(agent, upgrade.Header(ClientUserAgent.HeaderName));
    }

    /// <summary>One request as the server received it.</summary>
    private sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyList<KeyValuePair<string, string>> Headers)
    {
        public string? Header(string name) =>
            Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).SingleOrDefault();
    }

    /// <summary>Records every request before the chat server's own middleware sees it.</summary>
    private sealed class RecordRequests(ConcurrentQueue<RecordedRequest> requests) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                var request = context.Request;
                requests.Enqueue(new RecordedRequest(
                    request.Method,
                    request.Path.Value ?? "",
                    request.QueryString.Value ?? "",
                    [.. request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString()))]));
                return following(context);
            });
            next(app);
        };
    }
}
