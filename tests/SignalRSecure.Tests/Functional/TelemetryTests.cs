using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Server.Telemetry;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// OpenTelemetry on the real server: the Prometheus scrape endpoint on its own loopback port, and OTLP export to a
/// collector (a minimal OTLP/HTTP receiver on Kestrel that keeps what it is sent).
/// </summary>
[Collection(ProcessWideTelemetry.Name)]
public sealed class TelemetryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Prometheus_WhenOn_ServesTheGateCountersOnItsOwnLoopbackPort_AndTheyMove()
    {
        // Arrange
        var port = FreeLoopbackPort.Next();
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Metrics:Prometheus"] = "true",
            ["SignalRSecure:Metrics:PrometheusPort"] = port.ToString(CultureInfo.InvariantCulture),
        });
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://localhost:{port}/"), Timeout = Timeout };
        var failuresBefore = Sum(await scraper.GetStringAsync("metrics"), "signalrsecure_authentication_failures_total");

        // Act: one refused ticket, one authenticated connection.
        await using (var refused = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri))
        {
            var (_, error) = await refused.CallAsync(nameof(IChatHub.Authenticate), "not-a-ticket");
            Assert.NotNull(error);
        }

        await using var accepted = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await accepted.CallAsync(nameof(IChatHub.Authenticate), await server.GetTicketAsync(SecureServer.Alice));
        var scraped = await scraper.GetStringAsync("metrics");

        // Assert: the gate's counters and ASP.NET Core's own are there, and the public port does not serve them.
        Assert.True(Sum(scraped, "signalrsecure_authentication_failures_total") >= failuresBefore + 1, scraped);
        Assert.True(Sum(scraped, "signalrsecure_connections_authenticated") >= 1, scraped);
        Assert.Contains("kestrel_", scraped, StringComparison.Ordinal);
        using var publicClient = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout };
        Assert.Equal(HttpStatusCode.NotFound, (await publicClient.GetAsync("metrics")).StatusCode);
    }

    [Fact]
    public async Task Prometheus_WhenOff_ListensNowhere()
    {
        var port = FreeLoopbackPort.Next();
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Metrics:PrometheusPort"] = port.ToString(CultureInfo.InvariantCulture),
        });

        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Timeout));
    }

    [Theory]
    [InlineData("PrometheusPort", "0")]
    [InlineData("PrometheusPort", "70000")]
    [InlineData("PrometheusHost", "http://localhost/")]
    [InlineData("PrometheusHost", " ")]
    public async Task Prometheus_InvalidListener_FailsStartUpNamingTheKey(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Metrics:Prometheus"] = "true",
            [$"SignalRSecure:Metrics:{key}"] = value,
        }));

        Assert.Contains($"{TelemetryOptions.SectionName}:{key}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_WhenTheEndpointIsSet_ExportsTracesOfLoginTicketAndAuthenticateAndTheMetrics_WithoutSecrets()
    {
        // Arrange
        await using var collector = await OtlpCollector.StartAsync();
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        var traced = collector.WaitForAsync("/v1/traces", "signalrsecure.login", "signalrsecure.ticket", "signalrsecure.authenticate");
        var measured = collector.WaitForAsync("/v1/metrics", "signalrsecure.connections.authenticated", "kestrel.");

        // Act: sign in, take a ticket, authenticate with it.
        using var auth = server.CreateAuthClient();
        await auth.LoginAsync(SecureServer.Alice);
        var ticket = (await auth.GetTicketAsync()).Ticket;
        var sessionCookie = auth.Cookies.GetAllCookies().Single().Value;
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        var (_, error) = await socket.CallAsync(nameof(IChatHub.Authenticate), ticket);
        Assert.Null(error);

        // Assert
        await traced.WaitAsync(Timeout);
        await measured.WaitAsync(Timeout);
        foreach (var secret in new[] { ticket, SecureServer.Alice.Password, sessionCookie, SecureServer.IssuerKey })
        {
            Assert.DoesNotContain(collector.Received, request => request.Body.Contains(secret, StringComparison.Ordinal));
        }
    }

    // The sum of a metric's samples over all its label sets, in Prometheus text format ("name{labels} value").
    private static double Sum(string exposition, string metric) => exposition
        .Split('\n')
        .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
        .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>An OTLP/HTTP receiver that keeps every request's path and body (protobuf strings are UTF-8 in the bytes).</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, string Body)> _received = new();
        private readonly List<(string Path, string[] Names, TaskCompletionSource Seen)> _waits = [];

        private OtlpCollector(WebApplication app) => _app = app;

        public Uri Endpoint { get; private set; } = null!;

        public IReadOnlyCollection<(string Path, string Body)> Received => _received;

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                collector.Add(context.Request.Path, Encoding.UTF8.GetString(body.ToArray()));
                return Results.Ok();
            });
            await app.StartAsync();
            collector.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return collector;
        }

        /// <summary>Completes once requests to <paramref name="path"/> have named every one of <paramref name="names"/>.</summary>
        public Task WaitForAsync(string path, params string[] names)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waits)
            {
                _waits.Add((path, names, seen));
            }

            Check();
            return seen.Task;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();

        private void Add(string path, string body)
        {
            _received.Enqueue((path, body));
            Check();
        }

        private void Check()
        {
            lock (_waits)
            {
                foreach (var (path, names, seen) in _waits)
                {
                    var bodies = _received.Where(r => r.Path == path).Select(r => r.Body).ToList();
                    if (names.All(name => bodies.Any(body => body.Contains(name, StringComparison.Ordinal))))
                    {
                        seen.TrySetResult();
                    }
                }
            }
        }
    }
}
