using System.Diagnostics;
using System.Runtime.CompilerServices;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The console chat client (client-dotnet/SignalRSecure.Console) run as a child process with redirected standard
/// input and output, as a script would run it.
/// </summary>
internal sealed class ConsoleClientProcess : IDisposable
{
    private const string AssemblyName = "SignalRSecure.Console.dll";
    private static readonly Lazy<string> Assembly = new(FindOrBuildAssembly);
    private static readonly Lazy<bool> CanResetInterrupt = new(() => RunsToSuccess("env", "--default-signal=INT", "true"));

    private readonly Process _process;

    private ConsoleClientProcess(Process process) => _process = process;

    /// <summary>Every line the client wrote to standard output.</summary>
    public Recorder<string> Output { get; } = new();

    /// <summary>Every line the client wrote to standard error.</summary>
    public Recorder<string> Errors { get; } = new();

    public static ConsoleClientProcess Start(Uri serverUrl, string user) => Start("--url", serverUrl.ToString(), "--user", user);

    /// <summary>Starts the client with <paramref name="arguments"/> as its command line.</summary>
    public static ConsoleClientProcess Start(params string[] arguments)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string[] command = [dotnet, Assembly.Value, .. arguments];

        // A test run started as a background job has SIGINT ignored, the child inherits that, and .NET respects it: the
        // client would never see Ctrl+C. GNU env puts the default disposition back before it runs the client.
        if (CanResetInterrupt.Value)
        {
            command = ["env", "--default-signal=INT", .. command];
        }

        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var client = new ConsoleClientProcess(process);
        process.OutputDataReceived += (_, e) => Record(client.Output, e.Data);
        process.ErrorDataReceived += (_, e) => Record(client.Errors, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return client;
    }

    /// <summary>
    /// The bound on waits that include the process's start (runtime start, JIT) and sign-in (a password hash): far
    /// longer than one call takes on a busy machine.
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    public Task WriteLineAsync(string line) => _process.StandardInput.WriteLineAsync(line).WaitAsync(DotNetClientHarness.Timeout);

    /// <summary>Closes standard input: the end of the script.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGINT, which is what Ctrl+C does.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(DotNetClientHarness.Timeout);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -INT exited with {kill.ExitCode}");
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(Lifetime);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(
                $"The console client did not exit. Output:\n{string.Join('\n', Output.All)}\nErrors:\n{string.Join('\n', Errors.All)}", ex);
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Record(Recorder<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Add(line);
        }
    }

    /// <summary>
    /// The console client next to the test assembly: built by the same solution build (artifacts layout or the default
    /// bin/ layout). When it was not built (the test project alone was built), builds it once into a directory of its own.
    /// </summary>
    private static string FindOrBuildAssembly()
    {
        var testDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var candidates = new List<string>();

        // --artifacts-path: <artifacts>/bin/SignalRSecure.Tests/<pivot>/
        if (testDirectory.Parent is { Name: "SignalRSecure.Tests", Parent: { } artifactsBin })
        {
            candidates.Add(Path.Combine(artifactsBin.FullName, "SignalRSecure.Console", testDirectory.Name, AssemblyName));
        }

        // Default: <repo>/tests/SignalRSecure.Tests/bin/<Configuration>/<TargetFramework>/
        var repository = FindRepository(testDirectory) ?? FindRepository(new FileInfo(SourceFile()).Directory);
        if (testDirectory.Parent is { Parent.Name: "bin" } configuration && repository is not null)
        {
            candidates.Add(Path.Combine(repository, "client-dotnet", "SignalRSecure.Console", "bin", configuration.Name, testDirectory.Name, AssemblyName));
        }

        var found = candidates.FirstOrDefault(File.Exists);
        if (found is not null)
        {
            return found;
        }

        if (repository is null)
        {
            throw new InvalidOperationException($"{AssemblyName} not found in {string.Join(", ", candidates)}, nor the repository to build it.");
        }

        // One directory for every run, so that a later run builds incrementally instead of from scratch.
        var artifacts = Path.Combine(Path.GetTempPath(), "signalrsecure-console-tests");
        using var build = Process.Start(new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            ArgumentList = { "build", Path.Combine(repository, "client-dotnet", "SignalRSecure.Console"), "--artifacts-path", artifacts, "--nologo", "-v", "q" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var log = build.StandardOutput.ReadToEndAsync();
        if (!build.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            build.Kill(entireProcessTree: true);
            build.WaitForExit();
        }

        var output = Path.Combine(artifacts, "bin", "SignalRSecure.Console");
        var built = build.ExitCode == 0 && Directory.Exists(output)
            ? Directory.GetFiles(output, AssemblyName, SearchOption.AllDirectories).FirstOrDefault()
            : null;
        return built ?? throw new InvalidOperationException($"Building the console client failed:\n{log.Result}");
    }

    private static bool RunsToSuccess(string fileName, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(fileName, arguments);
            return process.WaitForExit(TimeSpan.FromSeconds(10)) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    // Where this file was compiled from: the repository, when the tests run from an artifacts directory outside it.
    private static string SourceFile([CallerFilePath] string path = "") => path;

    private static string? FindRepository(DirectoryInfo? directory)
    {
        for (; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SignalRSecure.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
