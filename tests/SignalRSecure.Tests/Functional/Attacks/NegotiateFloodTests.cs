using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// A flood of SignalR negotiations from one address: each one that SignalR answers creates a connection it keeps
/// for its disconnect timeout (15 s), so unlimited they are a flood of memory. 2,000 requests 16 at a time by default;
/// SIGNALRSECURE_ATTACK_SCALE=full sends 200,000 64 at a time.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class NegotiateFloodTests(ITestOutputHelper output)
{
    private const int PerMinute = 60;
    private const int Burst = 20;
    private const string Negotiate = ChatEndpoints.Hub + "/negotiate?negotiateVersion=1";

    [Fact]
    public async Task NegotiateFlood_FromOneIp_GetsTheBurstAndRateThen429WithRetryAfter_WhileAnotherIpNegotiates()
    {
        // Arrange
        var full = Environment.GetEnvironmentVariable("SIGNALRSECURE_ATTACK_SCALE") == "full";
        var (attempts, parallelism) = full ? (200_000, 64) : (2_000, 16);
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Protection:NegotiationsPerIpPerMinute"] = $"{PerMinute}",
            ["SignalRSecure:Protection:NegotiationBurstPerIp"] = $"{Burst}",
        });
        using var rejections = new RejectionCounter(server);
        using var attacker = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = parallelism }) { BaseAddress = server.BaseAddress };
        using var bystander = server.CreateAuthClient(from: LoopbackAddress.Second);
        using (var warmUp = await bystander.Http.PostAsync(Negotiate, null))
        {
            Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        }

        var memoryBefore = SettledMemory();

        // Act
        var clock = Stopwatch.StartNew();
        var flood = FloodAsync(attacker, attempts, parallelism);
        var bystanderStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await bystander.Http.PostAsync(Negotiate, null);
            bystanderStatuses.Add(response.StatusCode);
        }

        var tally = await flood.WaitAsync(TimeSpan.FromMinutes(full ? 10 : 2));
        var elapsed = clock.Elapsed;
        var live = LiveNegotiatedConnections(server);
        var memoryAfter = SettledMemory();

        // Assert
        var allowed = Burst + (int)Math.Ceiling(elapsed.TotalSeconds * PerMinute / 60) + 1;
        output.WriteLine($"{attempts} negotiations x {parallelism} in {elapsed.TotalSeconds:F1} s: {tally.Granted} answered 200 (at most {allowed} allowed), " +
            $"{tally.Refused} 429; {live} negotiated connections live; managed memory {memoryBefore / 1024} KB -> {memoryAfter / 1024} KB");
        Assert.InRange(tally.Granted, Burst, allowed);
        Assert.Equal(attempts, tally.Granted + tally.Refused);
        Assert.Empty(tally.Unexpected);
        Assert.All(bystanderStatuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(tally.Refused, rejections.Of("negotiate"));
        Assert.InRange(server.Logs.WithEvent("NegotiationRateLimited").Count(), 1, 1 + (int)elapsed.TotalMinutes);
        Assert.InRange(live, 0, tally.Granted + 11);
        Assert.InRange(memoryAfter - memoryBefore, long.MinValue, 16L * 1024 * 1024);
    }

    /// <summary>
    /// Sends the negotiations and counts the answers: 200, 429 with <c>Retry-After</c> and <c>rate limited</c>, and
    /// anything else. Counts rather than a list of 200,000 answers, which would weigh on the managed heap measured after.
    /// </summary>
    private static async Task<FloodTally> FloodAsync(HttpClient client, int attempts, int parallelism)
    {
        var tally = new FloodTally();
        await Parallel.ForEachAsync(Enumerable.Range(0, attempts), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (_, cancellationToken) =>
        {
            using var response = await client.PostAsync(Negotiate, null, cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Interlocked.Increment(ref tally.Granted);
                return;
            }

            var retryAfter = response.Headers.RetryAfter?.Delta;
            var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>(cancellationToken))?.Error;
            if (response.StatusCode == HttpStatusCode.TooManyRequests && retryAfter >= TimeSpan.FromSeconds(1) && error == HubErrors.RateLimited)
            {
                Interlocked.Increment(ref tally.Refused);
            }
            else
            {
                tally.Unexpected.Add($"{response.StatusCode}, Retry-After {retryAfter}, error {error}");
            }
        });
        return tally;
    }

    // SignalR exposes no count of the connections negotiate created, so read its connection manager's table: a
    // framework update that renames it fails here, loudly, rather than passing without checking.
    private static int LiveNegotiatedConnections(SecureServer server)
    {
        var managerType = typeof(HttpConnectionDispatcherOptions).Assembly.GetType("Microsoft.AspNetCore.Http.Connections.Internal.HttpConnectionManager", throwOnError: true)!;
        var manager = server.Services.GetRequiredService(managerType);
        var table = managerType.GetField("_connections", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(manager) as System.Collections.ICollection;
        return table?.Count ?? throw new InvalidOperationException("HttpConnectionManager._connections not found.");
    }

    private static long SettledMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private sealed class FloodTally
    {
        public int Granted;

        public int Refused;

        public ConcurrentBag<string> Unexpected { get; } = [];
    }

    /// <summary>Counts <c>signalrsecure.ratelimit.rejections</c> of one server, by <c>limit</c>.</summary>
    private sealed class RejectionCounter : IDisposable
    {
        private readonly ConcurrentDictionary<string, long> _counts = new();
        private readonly MeterListener _listener = new();

        public RejectionCounter(SecureServer server)
        {
            var factory = server.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SecureHubMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory)
                    && instrument.Name == "signalrsecure.ratelimit.rejections")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "limit" && tag.Value is string limit)
                    {
                        _counts.AddOrUpdate(limit, value, (_, sum) => sum + value);
                    }
                }
            });
            _listener.Start();
        }

        public long Of(string limit) => _counts.GetValueOrDefault(limit);

        public void Dispose() => _listener.Dispose();
    }
}
