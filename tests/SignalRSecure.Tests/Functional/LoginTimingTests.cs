using System.Diagnostics;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

[Collection(TimingSensitive.Name)]
public sealed class LoginTimingTests
{
    [Fact]
    public async Task Login_UnknownUser_CostsAPasswordHashLikeAKnownOne()
    {
        // A hash costly enough (tens of milliseconds) that skipping it would show far above the noise.
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Users:0:PasswordHash"] = PasswordHasher.Hash(SecureServer.Alice.Password, iterations: 100_000),
            ["SignalRSecure:Login:AttemptsPerUser"] = "100",
            ["SignalRSecure:Login:AttemptsPerIp"] = "100",
        });
        using var client = server.CreateAuthClient();
        var known = new List<double>();
        var unknown = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            known.Add(await TimeAsync(() => client.TryLoginAsync("alice", "wrong")));
            unknown.Add(await TimeAsync(() => client.TryLoginAsync($"nobody{i}", "wrong")));
        }

        // Not a benchmark: both paths run PBKDF2 with the same cost, so neither median is a fraction of the other.
        Assert.InRange(Median(unknown) / Median(known), 0.5, 2);
    }

    private static async Task<double> TimeAsync(Func<Task<HttpResponseMessage>> call)
    {
        var clock = Stopwatch.StartNew();
        using var response = await call();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
