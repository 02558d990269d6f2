using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SignalRSecure.Bench.Targets;

/// <summary>
/// Starts a <c>redis-server</c> of the benchmark's own for the cluster scenarios: on 127.0.0.1 and a free port, pinned
/// to the servers' core like them (<c>taskset</c>), without persistence (<c>--save '' --appendonly no</c>), in a
/// temporary directory; never a system service.
/// </summary>
internal sealed class RedisLauncher(string logDirectory, string serverCores = "0")
{
    private int _started;

    /// <summary>The version of the installed <c>redis-server</c> (<c>redis-server 7.0.15</c>), or null when it is not installed.</summary>
    public static async Task<string?> VersionAsync()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("redis-server", "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            // "Redis server v=7.0.15 sha=... malloc=... bits=64 build=...": the version is what the report needs.
            var version = text.Split(' ').FirstOrDefault(part => part.StartsWith("v=", StringComparison.Ordinal));
            return version is null ? text.Trim() : "redis-server " + version[2..];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    public async Task<RunningRedis> StartAsync()
    {
        var serial = Interlocked.Increment(ref _started);
        var port = FreePort();
        var directory = Directory.CreateTempSubdirectory("signalrsecure-bench-redis-").FullName;
        var log = Path.Combine(logDirectory, $"redis-{serial}.log");
        Directory.CreateDirectory(logDirectory);
        var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = directory, UseShellExecute = false };
        start.ArgumentList.Add("-c");

        // exec keeps one process id from sh to taskset to redis-server, so that /proc/<pid> is Redis.
        start.ArgumentList.Add($"exec taskset -c {serverCores} redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no --dir '{directory}' > '{log}' 2>&1");
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        var redis = new RunningRedis(process, port, directory, log);
        try
        {
            await redis.WaitUntilReadyAsync(TimeSpan.FromSeconds(10));
        }
        catch
        {
            redis.Dispose();
            throw;
        }

        return redis;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A <c>redis-server</c> started by <see cref="RedisLauncher"/>; disposing it kills it and removes its directory.</summary>
internal sealed class RunningRedis(Process process, int port, string directory, string logFile) : IDisposable
{
    public int Pid => process.Id;

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{port}";

    public string LogFile => logFile;

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited at start: {await File.ReadAllTextAsync(logFile)}");
            }

            if (await AnswersPingAsync())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"redis-server was not ready within {timeout}");
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }

        process.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A file Redis still held; the directory is in /tmp.
        }
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(1));
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}
