using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using SignalRSecure.AspNetCore.Hosting;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>
/// Issuer tickets that are never redeemed, with nothing issued after them: the store's timer drops them once they
/// expire, and the managed heap returns to its baseline. 5,000 tickets by default; SIGNALRSECURE_ATTACK_SCALE=full
/// issues 50,000. The server runs on a manual clock, so expiry takes no waiting.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class UnredeemedTicketMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task IssuerTickets_NeverRedeemed_AreSweptAfterExpiry_AndTheHeapReturnsToBaseline()
    {
        var count = Environment.GetEnvironmentVariable("SIGNALRSECURE_ATTACK_SCALE") == "full" ? 50_000 : 5_000;
        var clock = new ManualTimeProvider();
        await using var server = await SecureServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["SignalRSecure:Tickets:RequestsPerIpPerMinute"] = "1000000",

                // The test's log capture keeps every record in this process's heap: one TicketIssued per ticket would be
                // measured as the server's memory.
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:SignalRSecure"] = "Warning",
            },
            services => services.AddSingleton<TimeProvider>(clock));
        var store = (InMemoryTicketStore)server.GetRequiredService<ITicketStore>();
        var lifetime = TicketOptions.DefaultLifetime;
        using var client = server.CreateAuthClient();

        // Warm-up: JIT, connection pools and buffers reach their steady size before the baseline is taken.
        await IssueAsync(client, 500);
        clock.Advance(lifetime + ExpirySweep.IntervalFor(lifetime));
        var baseline = SettledMemory();
        var clock0 = Stopwatch.StartNew();

        await IssueAsync(client, count);
        var issuedIn = clock0.Elapsed;
        var peak = SettledMemory();
        var storedAtPeak = store.Count;
        clock.Advance(lifetime + ExpirySweep.IntervalFor(lifetime));
        var after = SettledMemory();

        output.WriteLine(
            $"{count} issuer tickets in {issuedIn.TotalSeconds:F1} s; managed heap {baseline / 1024} KB -> {peak / 1024} KB with them " +
            $"(+{(peak - baseline) / 1024} KB, {(peak - baseline) / count} B per ticket) -> {after / 1024} KB after expiry " +
            $"({(after - baseline) / 1024:+0;-0} KB); process working set {Environment.WorkingSet / (1024 * 1024)} MB; " +
            $"{server.Logs.Records.Count} log records kept");
        Assert.Equal(count, storedAtPeak);
        Assert.Equal(0, store.Count);
        Assert.InRange(after - baseline, long.MinValue, Math.Max(2L * 1024 * 1024, (peak - baseline) / 10));
    }

    private static Task IssueAsync(AuthClient client, int count) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            using var response = await client.IssueTicketAsync(new IssueTicketRequest($"user{i % 1000}", ["general", "team-*"], ClientIp: "127.0.0.1"));
            response.EnsureSuccessStatusCode();
            Assert.NotNull(await response.Content.ReadFromJsonAsync<TicketResponse>());
        });

    private static long SettledMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
