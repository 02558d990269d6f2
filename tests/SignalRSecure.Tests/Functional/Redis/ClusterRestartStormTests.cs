using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// A node crash under a crowd of .NET and JS clients: two real server processes on one redis-server behind a real
/// nginx, the clients spread over both nodes through it; one node is killed (SIGKILL), and every client that was on it
/// must come back through the proxy to the survivor, authenticate with a fresh ticket and re-join its group within
/// 30 s. 100 + 100 clients by default; SIGNALRSECURE_ATTACK_SCALE=full runs 250 + 250.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed partial class ClusterRestartStormTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const string Group = "storm";
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task NodeKilled_UnderDotNetAndJsClients_EveryClientReconnectsThroughTheProxyToTheSurvivor_AndRejoins()
    {
        // Arrange: the cluster, and the crowd spread over it by the proxy's round robin.
        var perKind = Environment.GetEnvironmentVariable("SIGNALRSECURE_ATTACK_SCALE") == "full" ? 250 : 100;
        var settings = new Dictionary<string, string>
        {
            ["SignalRSecure:Redis:Configuration"] = redis.Server.Configuration,
            ["SignalRSecure:Redis:ChannelPrefix"] = RedisFixture.UniquePrefix(),
            ["SignalRSecure:Tickets:IssuerKey"] = SecureServer.IssuerKey,
            ["SignalRSecure:Proxy:KnownProxies:0"] = "127.0.0.1",

            // Every client comes from 127.0.0.1 through the proxy: that one address stands for the whole crowd, twice
            // over for the moment when the survivor's clients and the newcomers overlap.
            ["SignalRSecure:Protection:MaxConnectionsPerIp"] = $"{perKind * 4}",
            ["SignalRSecure:Protection:MaxUnauthenticatedConnectionsPerIp"] = $"{perKind * 4}",
            ["SignalRSecure:Tickets:RequestsPerIpPerMinute"] = "100000",
        };
        await using var nodeA = await ServerProcess.StartAsync(settings);
        await using var nodeB = await ServerProcess.StartAsync(settings);
        await using var proxy = await NginxProxy.StartAsync([nodeA.BaseAddress, nodeB.BaseAddress]);
        using var issuer = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        issuer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SecureServer.IssuerKey);
        var clients = new List<(string User, SecureHubClient Client, Recorder<SecureHubStateChange> States)>();
        using var jsCrowd = StartJsCrowd(proxy, perKind);
        var jsRecovered = new ConcurrentDictionary<string, TimeSpan>();
        var jsReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var jsChecked = new ConcurrentQueue<string>();
        var jsCheckedAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        jsCrowd.OutputDataReceived += (_, line) =>
        {
            switch (line.Data?.Split(' ', 3))
            {
                case ["ready"]:
                    jsReady.TrySetResult();
                    break;
                case ["recovered", var user]:
                    jsRecovered[user] = clock.Elapsed;
                    break;
                case ["checked", var user, var verdict]:
                    jsChecked.Enqueue($"{user} {verdict}");
                    break;
                case ["checked-all"]:
                    jsCheckedAll.TrySetResult();
                    break;
            }
        };
        var jsErrors = new ConcurrentQueue<string>();
        jsCrowd.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                jsErrors.Enqueue(text);
            }
        };
        jsCrowd.BeginOutputReadLine();
        jsCrowd.BeginErrorReadLine();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, perKind), new ParallelOptions { MaxDegreeOfParallelism = 20 }, async (i, _) =>
            {
                var options = new SecureHubClientOptions { ServerUrl = proxy.BaseAddress, ReconnectPolicy = new FixedDelayPolicy(TimeSpan.FromMilliseconds(250)) };
                var user = $"dotnet-storm{i}";
                var client = new SecureHubClient(options, ct => IssueAsync(issuer, user, ct));
                var states = new Recorder<SecureHubStateChange>();
                client.StateChanged += states.Handler;
                lock (clients)
                {
                    clients.Add((user, client, states));
                }

                await client.ConnectAsync().WaitAsync(Timeout);
                await client.JoinGroupAsync(Group).WaitAsync(Timeout);
            });
            await jsReady.Task.WaitAsync(Timeout);
            var usersOnA = await UsersAuthenticatedOnAsync(nodeA, nodeB, 2 * perKind);

            // Act: kill node A; the clients that were on it must come back on B through the proxy.
            var dotNetOnA = clients.Where(c => usersOnA.Contains(c.User)).ToList();
            var jsOnA = usersOnA.Where(user => user.StartsWith("js-", StringComparison.Ordinal)).ToHashSet();
            var jsAllBack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var before = clients.Select(c => c.States.All.Count).ToList();
            clock.Start();
            void CheckJsBack()
            {
                if (jsOnA.All(jsRecovered.ContainsKey))
                {
                    jsAllBack.TrySetResult();
                }
            }

            jsCrowd.OutputDataReceived += (_, _) => CheckJsBack();
            await nodeA.KillAsync();
            CheckJsBack();
            await Task.WhenAll(dotNetOnA.Select(async c =>
            {
                await c.States.NextAsync(s => s.State == SecureHubState.Reconnecting, RecoveryBound);
                await c.States.NextAsync(s => s.State == SecureHubState.Authenticated, RecoveryBound);
            }));
            var dotNetRecovered = clock.Elapsed;
            await jsAllBack.Task.WaitAsync(RecoveryBound);
            var jsRecoveredAt = clock.Elapsed;

            // Every client answers from the survivor, in its group.
            var members = await clients[0].Client.GetGroupMembersAsync(Group).WaitAsync(Timeout);
            var echoes = await Task.WhenAll(clients.Select(c => c.Client.EchoAsync("after the storm").WaitAsync(Timeout)));
            await jsCrowd.StandardInput.WriteLineAsync("check");
            await jsCheckedAll.Task.WaitAsync(Timeout);
            var reconnectedOnB = clients.Where((c, i) => !dotNetOnA.Contains(c) && c.States.All.Skip(before[i]).Any(s => s.State == SecureHubState.Reconnecting)).Count();
            output.WriteLine(
                $"{perKind} .NET + {perKind} JS clients over 2 nodes; node A killed with {dotNetOnA.Count} .NET and {jsOnA.Count} JS clients: " +
                $".NET ones back in {dotNetRecovered.TotalSeconds:F1} s, JS ones in {jsRecoveredAt.TotalSeconds:F1} s; {members.Count} members of {Group} on the survivor");

            // Assert: the proxy spread the crowd; A's clients all came back within the bound, B's never noticed; every
            // client answers in its group.
            Assert.InRange(dotNetOnA.Count, perKind / 4, perKind * 3 / 4);
            Assert.InRange(jsOnA.Count, perKind / 4, perKind * 3 / 4);
            Assert.InRange(dotNetRecovered, TimeSpan.Zero, RecoveryBound);
            Assert.InRange(jsRecoveredAt, TimeSpan.Zero, RecoveryBound);
            Assert.Equal(jsOnA.Order(), jsRecovered.Keys.Order());
            Assert.Equal(0, reconnectedOnB);
            Assert.All(clients, c => Assert.Equal(SecureHubState.Authenticated, c.Client.State));
            Assert.All(echoes, echo => Assert.Equal("after the storm", echo));
            Assert.Equal(perKind, jsChecked.Count);
            Assert.All(jsChecked, verdict => Assert.EndsWith(" OK", verdict, StringComparison.Ordinal));
            Assert.Equal(clients.Select(c => c.User).Concat(Enumerable.Range(0, perKind).Select(i => $"js-storm{i}")).Order(), members.Distinct().Order());
            Assert.Empty(jsErrors);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.Client.DisposeAsync().AsTask()));
            if (!jsCrowd.HasExited)
            {
                await jsCrowd.StandardInput.WriteLineAsync("stop");
                if (!jsCrowd.WaitForExit(TimeSpan.FromSeconds(15)))
                {
                    jsCrowd.Kill(entireProcessTree: true);
                }
            }
        }
    }

    /// <summary>
    /// The users whose connections <paramref name="node"/> authenticated, once the two nodes together have logged
    /// <paramref name="total"/> authentications (the console log trails the answers by a background thread).
    /// </summary>
    private static async Task<HashSet<string>> UsersAuthenticatedOnAsync(ServerProcess node, ServerProcess other, int total)
    {
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(string _)
        {
            if (Authenticated(node).Count + Authenticated(other).Count >= total)
            {
                all.TrySetResult();
            }
        }

        node.LineReceived += Check;
        other.LineReceived += Check;
        try
        {
            Check(string.Empty);
            await all.Task.WaitAsync(Timeout);
            return Authenticated(node);
        }
        finally
        {
            node.LineReceived -= Check;
            other.LineReceived -= Check;
        }
    }

    private static HashSet<string> Authenticated(ServerProcess node) =>
        AuthenticatedAs().Matches(node.Output).Select(m => m.Groups["user"].Value).ToHashSet();

    [GeneratedRegex(@"authenticated as (?<user>\S+)")]
    private static partial Regex AuthenticatedAs();

    private static Process StartJsCrowd(NginxProxy proxy, int count)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.Combine(ShellCommand.Repository, "client-js"),
        };
        foreach (var argument in new[] { "test/support/cluster-crowd.js", "--url", proxy.BaseAddress.ToString(), "--count", count.ToString(CultureInfo.InvariantCulture), "--group", Group })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SIGNALRSECURE_ISSUER_KEY"] = SecureServer.IssuerKey;
        return Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
    }

    private static async Task<string> IssueAsync(HttpClient issuer, string user, CancellationToken cancellationToken)
    {
        using var response = await issuer.PostAsJsonAsync(SecureEndpoints.IssueTicket, new IssueTicketRequest(user, [Group]), cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>(cancellationToken))!.Ticket;
    }
}
