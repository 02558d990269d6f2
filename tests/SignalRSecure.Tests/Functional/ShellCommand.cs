using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// A command line run by bash the way a user types it in a terminal: from a directory of its own (bash sets <c>PWD</c>
/// to it), with standard output and error recorded line by line. For the README's commands, run as written.
/// </summary>
internal sealed class ShellCommand : IDisposable
{
    private readonly Process _process;

    private ShellCommand(Process process) => _process = process;

    /// <summary>The repository the tests were compiled from.</summary>
    public static string Repository { get; } = FindRepository();

    /// <summary>
    /// <c>dotnet run --project server/SignalRSecure.Server</c> as the README writes it, with the server project's absolute
    /// path, plus <c>--no-build</c> and the test's own configuration: the solution build has built it, and a build
    /// here would race other tests and take minutes on a loaded machine.
    /// </summary>
    public static string DotNetRunServer { get; } =
        $"dotnet run --no-build -c {Configuration()} --project '{Path.Combine(Repository, "server", "SignalRSecure.Server")}'";

    public Recorder<string> Output { get; } = new();

    public Recorder<string> Errors { get; } = new();

    public int ExitCode => _process.ExitCode;

    /// <summary>Completes when the command has exited.</summary>
    public Task Exited => _process.WaitForExitAsync();

    /// <summary>Starts <c>bash -c <paramref name="script"/></c> in <paramref name="directory"/>.</summary>
    public static ShellCommand Start(string script, string directory)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", script },
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // A terminal's environment, not the test host's: bash sets PWD itself, and the dotnet the tests run on comes first.
        start.Environment.Remove("PWD");
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { } dotnet)
        {
            start.Environment["PATH"] = $"{Path.GetDirectoryName(dotnet)}{Path.PathSeparator}{start.Environment["PATH"]}";
        }

        var process = new Process { StartInfo = start };
        var command = new ShellCommand(process);
        process.OutputDataReceived += (_, e) => Record(command.Output, e.Data);
        process.ErrorDataReceived += (_, e) => Record(command.Errors, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return command;
    }

    /// <summary>Runs <paramref name="script"/> to its end (within <paramref name="within"/>) and returns it.</summary>
    public static async Task<ShellCommand> RunAsync(string script, string directory, TimeSpan within)
    {
        var command = Start(script, directory);
        try
        {
            await command._process.WaitForExitAsync().WaitAsync(within);

            // WaitForExitAsync waits for the end of both redirected streams too, so every line is recorded by now.
            return command;
        }
        catch
        {
            command.Dispose();
            throw;
        }
    }

    /// <summary>What the command printed, for failure messages.</summary>
    public string Transcript() =>
        $"exit: {(_process.HasExited ? _process.ExitCode : "running")}\nstdout:\n{string.Join('\n', Output.All)}\nstderr:\n{string.Join('\n', Errors.All)}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
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

    // bin/<Configuration>/<TargetFramework>/ in the default layout; Debug otherwise.
    private static string Configuration() =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent is { Parent.Name: "bin" } configuration
            ? configuration.Name
            : "Debug";

    private static string FindRepository([CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, source })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "SignalRSecure.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException("The repository (SignalRSecure.sln) was not found above the tests.");
    }
}
