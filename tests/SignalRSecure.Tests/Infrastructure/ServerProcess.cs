using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// The real chat server in a process of its own (<c>dotnet SignalRSecure.Server.dll</c>, as built beside the tests),
/// on 127.0.0.1 and a port Kestrel picks, configured through environment variables: a node that can be killed as a
/// crash would kill it.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServerProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Raised for each line the process prints, after <see cref="Output"/> has it.</summary>
    public event Action<string>? LineReceived;

    /// <summary>Everything the process printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts the server with <paramref name="settings"/> (configuration keys, such as <c>SignalRSecure:Hub:...</c>).</summary>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "SignalRSecure.Server.dll"), "--urls", "http://127.0.0.1:0" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var server = new ServerProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Read(object? sender, DataReceivedEventArgs line)
        {
            if (line.Data is null)
            {
                return;
            }

            lock (server._output)
            {
                server._output.Add(line.Data);
            }

            server.LineReceived?.Invoke(line.Data);

            // Kestrel names the address once it is bound: a signal, not a guess about time.
            if (NowListening().Match(line.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups["url"].Value));
            }
        }

        server._process.OutputDataReceived += Read;
        server._process.ErrorDataReceived += Read;
        server._process.EnableRaisingEvents = true;
        server._process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"the server exited:\n{server.Output}"));
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            server.BaseAddress = await listening.Task.WaitAsync(StartTimeout);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Kills the process at once (SIGKILL): its connections drop without a close message.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://\S+)")]
    private static partial Regex NowListening();
}
