using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using SignalRSecure.Bench.Load;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// The attacker of the login-flood attack test, in a process of its own (<c>SignalRSecure.Bench login-flood</c>): it
/// sends every login at once, each with a fresh unknown user name and a wrong password, <c>--per-address</c> of them
/// from each of <c>--addresses</c> loopback addresses (127.0.0.10, 127.0.0.11, ...). A separate process, like a real
/// attacker, so that its connect and parsing work does not run on the server's thread pool and show up as the
/// victims' latency.
/// </summary>
/// <remarks>
/// Protocol on standard output: <c>answered</c> once the first login has its answer, then one
/// <c>login STATUS RETRY_AFTER_SECONDS ELAPSED_MS BODY_BASE64</c> per login (status 0 and retry-after -1: no answer
/// within <c>--timeout-seconds</c>; retry-after -1: no header), then <c>done</c>.
/// </remarks>
internal static class LoginFloodClient
{
    private const int FirstHost = 10;

    public static async Task<int> RunAsync(Uri baseAddress, int addresses, int perAddress, TimeSpan timeout, TextWriter output)
    {
        var clients = Enumerable.Range(0, addresses)
            .Select(i => new HttpClient(Dialer.CreateHandler(IPAddress.Parse($"127.0.0.{FirstHost + i}"))) { BaseAddress = baseAddress, Timeout = timeout })
            .ToList();
        var outcomes = new ConcurrentQueue<string>();
        var answered = 0;
        try
        {
            await Task.WhenAll(clients.SelectMany(client => Enumerable.Range(0, perAddress).Select(async _ =>
            {
                var started = Stopwatch.GetTimestamp();
                string outcome;
                try
                {
                    using var response = await client.PostAsJsonAsync("/auth/login", new { username = $"nobody-{Guid.NewGuid():N}", password = "wrong password" });
                    var body = await response.Content.ReadAsByteArrayAsync();
                    var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : -1;
                    outcome = FormattableString.Invariant($"login {(int)response.StatusCode} {retryAfter} {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} {Convert.ToBase64String(body)}");
                }
                catch (TaskCanceledException)
                {
                    outcome = FormattableString.Invariant($"login 0 -1 {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} -");
                }

                outcomes.Enqueue(outcome);
                if (Interlocked.Exchange(ref answered, 1) == 0)
                {
                    lock (output)
                    {
                        output.WriteLine("answered");
                        output.Flush();
                    }
                }
            })));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        var report = new StringBuilder();
        foreach (var outcome in outcomes)
        {
            report.Append(outcome).Append('\n');
        }

        report.Append("done\n");
        lock (output)
        {
            output.Write(report.ToString());
            output.Flush();
        }

        return 0;
    }

    /// <summary>
    /// Starts the attacker process: this same program, at the lowest priority. A real attacker's connects and parsing
    /// run on machines of its own; here they share the server's two cores, and the lowest priority keeps that sharing
    /// from counting as the server's latency while every login still arrives at once.
    /// </summary>
    public static Process Start(Uri baseAddress, int addresses, int perAddress, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("nice")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-n", "19", Environment.ProcessPath ?? "dotnet", typeof(LoginFloodClient).Assembly.Location, "login-flood", "--url", baseAddress.ToString(),
            "--addresses", addresses.ToString(CultureInfo.InvariantCulture),
            "--per-address", perAddress.ToString(CultureInfo.InvariantCulture),
            "--timeout-seconds", timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the login flood client");
    }
}
