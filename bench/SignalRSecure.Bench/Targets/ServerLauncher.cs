using System.Diagnostics;
using SignalRSecure.Bench.Load;

namespace SignalRSecure.Bench.Targets;

/// <summary>Where the built servers are.</summary>
/// <param name="ServerDll">The real server, <c>SignalRSecure.Server.dll</c> (G).</param>
/// <param name="BenchServersDll"><c>SignalRSecure.Bench.Servers.dll</c> (A, B, C).</param>
/// <param name="ProbeDll">The startup hook loaded into every .NET server.</param>
/// <param name="NodeServer"><c>bench/node/server.mjs</c> (N).</param>
/// <param name="LogDirectory">Where each server's output goes.</param>
internal sealed record ServerPaths(string ServerDll, string BenchServersDll, string ProbeDll, string NodeServer, string LogDirectory);

/// <summary>
/// Starts each server as its own process pinned to core 0 (<c>taskset -c 0</c>), .NET ones with
/// <c>DOTNET_PROCESSOR_COUNT=1</c>, the memory probe and the runtime settings G ships (<see cref="RuntimeSettings"/>),
/// all with the limits raised for load, and stops it.
/// </summary>
internal sealed class ServerLauncher(ServerPaths paths, IReadOnlyDictionary<string, string>? extraEnvironment = null, string serverCores = "0")
{
    /// <summary>
    /// What every .NET server (A, B, C, G) gets on top of its own runtimeconfig: G's shipped runtime settings, so that
    /// all run alike. <c>--server-env</c> and <c>--host</c> apply after these.
    /// </summary>
    public IReadOnlyDictionary<string, string> SameRuntime { get; } =
        RuntimeSettings.FromRuntimeConfig(Path.ChangeExtension(paths.ServerDll, ".runtimeconfig.json"));

    public const string IssuerKey = "bench-issuer-key-0123456789-abcdefghijklmnopqrstuvwxyz";
    public const string TokenKey = "bench-token-key-0123456789-abcdefghijklmnopqrstuvwxyz";

    private int _port = 5600 + (Environment.ProcessId % 200 * 10);
    private int _started;

    /// <summary>
    /// The configuration the real server (G) runs with. The per-IP caps and rate limits are raised so that one
    /// machine's load generator is not refused as the flood it resembles; nothing else is weakened. With
    /// <paramref name="shippedDoor"/> (the flood scenario) the global pace of new connections keeps its default,
    /// since pacing a flood is what it is for.
    /// </summary>
    public static IReadOnlyDictionary<string, string> GatedOverrides(TimeSpan? authenticationTimeout = null, bool shippedDoor = false)
    {
        var overrides = new Dictionary<string, string>
        {
            ["SignalRSecure__Tickets__IssuerKey"] = "<" + IssuerKey.Length + "-character bench key>",
            ["SignalRSecure__Tickets__Lifetime"] = "00:05:00",
            ["SignalRSecure__Tickets__RequestsPerIpPerMinute"] = "10000000",
            ["SignalRSecure__Protection__MaxConnectionsPerIp"] = "100000",
            ["SignalRSecure__Protection__MaxUnauthenticatedConnectionsPerIp"] = "100000",
            ["SignalRSecure__Protection__MaxUnauthenticatedConnections"] = "100000",
            ["SignalRSecure__Hub__InvocationsPerSecond"] = "1000000",
            ["SignalRSecure__Hub__InvocationBurst"] = "1000000",
            ["SignalRSecure__Hub__MessagesPerSecond"] = "1000000",
            ["SignalRSecure__Hub__MessageBurst"] = "2000000",
            ["SignalRSecure__Hub__UserInvocationsPerSecond"] = "1000000",
            ["SignalRSecure__Hub__UserInvocationBurst"] = "1000000",
            ["SignalRSecure__Protection__MaxConnectionsPerUser"] = "100000",
        };
        if (!shippedDoor)
        {
            overrides["SignalRSecure__Protection__NewConnectionsPerSecond"] = "1000000";
            overrides["SignalRSecure__Protection__NewConnectionBurst"] = "1000000";
        }

        if (authenticationTimeout is { } timeout)
        {
            overrides["SignalRSecure__Hub__AuthenticationTimeout"] = timeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        }

        return overrides;
    }

    /// <summary>The same limits for N, under its own variable names.</summary>
    public static IReadOnlyDictionary<string, string> NodeOverrides(TimeSpan? authenticationTimeout = null)
    {
        var overrides = new Dictionary<string, string>
        {
            ["ISSUER_KEY"] = "<" + IssuerKey.Length + "-character bench key>",
            ["TICKET_LIFETIME_MS"] = "300000",
            ["INVOCATIONS_PER_SECOND"] = "1000000",
            ["INVOCATION_BURST"] = "1000000",
            ["MAX_CONNECTIONS_PER_IP"] = "100000",
            ["MAX_UNAUTHENTICATED_CONNECTIONS"] = "100000",
        };
        if (authenticationTimeout is { } timeout)
        {
            overrides["AUTHENTICATION_TIMEOUT_MS"] = ((long)timeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return overrides;
    }

    /// <summary>
    /// Starts <paramref name="kind"/> and waits until it answers. <paramref name="environment"/> adds variables for this
    /// process only (a cluster node's Redis, a hub protocol); <c>--server-env</c> still applies over them.
    /// </summary>
    public async Task<RunningServer> StartAsync(
        ServerKind kind, TimeSpan? authenticationTimeout = null, bool shippedDoor = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        // Several servers may run at once (the nodes of a cluster): each gets its own port, probe socket and log.
        var serial = Interlocked.Increment(ref _started);
        var port = _port + (serial % 10);
        var url = $"http://127.0.0.1:{port}";
        var probeSocket = Path.Combine(Path.GetTempPath(), $"signalrsecure-bench-{Environment.ProcessId}-{kind}-{serial}.sock");
        var log = Path.Combine(paths.LogDirectory, $"{kind}-{serial}.log");
        Directory.CreateDirectory(paths.LogDirectory);
        File.Delete(probeSocket);

        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["BENCH_PROBE_SOCKET"] = probeSocket,
        };
        string command;
        string workingDirectory;
        if (kind == ServerKind.N)
        {
            foreach (var (key, value) in NodeOverrides(authenticationTimeout))
            {
                variables[key] = value;
            }

            variables["ISSUER_KEY"] = IssuerKey;
            variables["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            variables["HOST"] = "127.0.0.1";
            workingDirectory = Path.GetDirectoryName(paths.NodeServer)!;
            command = $"node --expose-gc {Quote(paths.NodeServer)}";
        }
        else
        {
            foreach (var (key, value) in SameRuntime)
            {
                variables[key] = value;
            }

            variables["DOTNET_PROCESSOR_COUNT"] = "1";
            variables["DOTNET_STARTUP_HOOKS"] = paths.ProbeDll;
            variables["ASPNETCORE_ENVIRONMENT"] = "Production";
            variables["ASPNETCORE_URLS"] = url;
            if (kind == ServerKind.G)
            {
                foreach (var (key, value) in GatedOverrides(authenticationTimeout, shippedDoor))
                {
                    variables[key] = value;
                }

                variables["SignalRSecure__Tickets__IssuerKey"] = IssuerKey;
                workingDirectory = Path.GetDirectoryName(paths.ServerDll)!;
                command = $"dotnet {Quote(paths.ServerDll)}";
            }
            else
            {
                variables["Bench__TokenKey"] = TokenKey;
                workingDirectory = Path.GetDirectoryName(paths.BenchServersDll)!;
                command = $"dotnet {Quote(paths.BenchServersDll)} --mode {kind}";
            }
        }

        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");

        // exec keeps one process id from sh to taskset to the server, so that /proc/<pid> is the server.
        start.ArgumentList.Add($"exec taskset -c {serverCores} {command} > {Quote(log)} 2>&1");
        foreach (var (key, value) in variables)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {kind}");
        var server = new RunningServer(kind, process, new Uri(url), log, new ProcessStats(process.Id), new MemoryProbe(probeSocket));
        try
        {
            await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>A server process started by <see cref="ServerLauncher"/>; disposing it kills it.</summary>
internal sealed class RunningServer(ServerKind kind, Process process, Uri baseAddress, string logFile, ProcessStats stats, MemoryProbe probe)
    : IDisposable
{
    public ServerKind Kind => kind;

    public Uri BaseAddress => baseAddress;

    public string LogFile => logFile;

    public ProcessStats Stats => stats;

    /// <summary>The target of this server; <paramref name="cpu"/> replaces its statistics (a cluster's CPU counted together).</summary>
    public BenchTarget CreateTarget(ProcessStats? cpu = null, HubProtocol protocol = HubProtocol.Json) =>
        new(kind, baseAddress, ServerLauncher.IssuerKey, ServerLauncher.TokenKey, cpu ?? stats, probe) { Protocol = protocol };

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{kind} exited at start: {await File.ReadAllTextAsync(logFile)}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(baseAddress, "/healthz"));
                if (response.IsSuccessStatusCode && File.Exists(probe.SocketPath))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy to answer within the request's timeout on a loaded machine.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{kind} was not ready within {timeout}");
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }

        process.Dispose();
        File.Delete(probe.SocketPath);
    }
}
