using System.Diagnostics;
using System.Runtime.InteropServices;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Reporting;

/// <summary>What the report says about the machine and the software the numbers come from.</summary>
internal sealed record MachineInfo(
    string Cpu, int Cores, string Kernel, string Os, string Memory, string DotnetSdk, string DotnetRuntime, string Node, string Ws, int OpenFilesLimit, string Redis)
{
    public static async Task<MachineInfo> CollectAsync(ServerPaths paths)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(':', 2)[1].Trim();
        var os = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux";
        var wsPackage = Path.Combine(Path.GetDirectoryName(paths.NodeServer)!, "node_modules", "ws", "package.json");
        var ws = File.Exists(wsPackage)
            ? System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(wsPackage)).RootElement.GetProperty("version").GetString() ?? "?"
            : "not installed";
        return new MachineInfo(
            cpu,
            Environment.ProcessorCount > 1 ? Environment.ProcessorCount : int.Parse((await RunAsync("nproc", "--all")).Trim(), System.Globalization.CultureInfo.InvariantCulture),
            (await File.ReadAllTextAsync("/proc/sys/kernel/osrelease")).Trim(),
            os,
            memory,
            (await RunAsync("dotnet", "--version")).Trim(),
            RuntimeInformation.FrameworkDescription,
            (await RunAsync("node", "--version")).Trim(),
            ws,
            MaxOpenFiles(),
            await RedisLauncher.VersionAsync() ?? "not installed");
    }

    /// <summary>The most connections one process can hold: the open files limit, less room for everything else.</summary>
    public static int MaxConnections() => Math.Max(1000, MaxOpenFiles() - 500);

    private static int MaxOpenFiles()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return soft == "unlimited" ? int.MaxValue : int.Parse(soft, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 1024;
    }

    private static async Task<string> RunAsync(string file, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return text;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not found";
        }
    }
}
