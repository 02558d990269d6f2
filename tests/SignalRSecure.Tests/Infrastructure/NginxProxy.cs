using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// A real nginx of the test's own in front of server nodes, on 127.0.0.1 and a random port, configured as the README's
/// cluster recipe: round robin over the nodes, WebSocket upgrades passed through, the client's address appended to
/// <c>X-Forwarded-For</c>, a node that refuses connections skipped. Never a system service.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly string _directory;
    private readonly Process _process;

    private NginxProxy(int port, string directory, Process process)
    {
        Port = port;
        _directory = directory;
        _process = process;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>Starts nginx in front of <paramref name="nodes"/> and waits until it has bound its port.</summary>
    public static async Task<NginxProxy> StartAsync(IEnumerable<Uri> nodes)
    {
        var port = FreeLoopbackPort.Next();
        var directory = Directory.CreateTempSubdirectory("signalrsecure-nginx-").FullName;
        var configuration = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(configuration, Configuration(directory, port, nodes));
        // Debian puts it in /usr/sbin, which a user's PATH may lack.
        var start = new ProcessStartInfo(File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-p", directory, "-c", configuration })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("nginx is not installed; ./test.sh installs Debian's nginx.", ex);
        }

        // The master binds its listening sockets before it starts the workers, and says so: waiting for that line is
        // waiting for a signal, not for time to pass.
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new List<string>();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            lock (errors)
            {
                errors.Add(line.Data);
            }

            if (line.Data.Contains("start worker processes", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"nginx exited with {process.ExitCode}: {string.Join('\n', errors)}"));
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var proxy = new NginxProxy(port, directory, process);
        try
        {
            await ready.Task.WaitAsync(StartTimeout);
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }

        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static string Configuration(string directory, int port, IEnumerable<Uri> nodes)
    {
        var servers = string.Concat(nodes.Select(node => $"    server {node.Host}:{node.Port.ToString(CultureInfo.InvariantCulture)} max_fails=1 fail_timeout=10s;\n"));

        // As root (CI), the workers would otherwise switch to nobody, who cannot write the temp paths here.
        var user = Environment.UserName == "root" ? "user root;\n" : string.Empty;
        return $$"""
            {{user}}daemon off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log stderr notice;
            events { worker_connections 4096; }
            http {
              access_log off;
              client_body_temp_path {{directory}}/body;
              proxy_temp_path {{directory}}/proxy;
              fastcgi_temp_path {{directory}}/fastcgi;
              uwsgi_temp_path {{directory}}/uwsgi;
              scgi_temp_path {{directory}}/scgi;
              map $http_upgrade $connection_upgrade { default upgrade; '' close; }
              upstream nodes {
            {{servers}}  }
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://nodes;
                  proxy_http_version 1.1;
                  proxy_set_header Upgrade $http_upgrade;
                  proxy_set_header Connection $connection_upgrade;
                  proxy_set_header Host $host:$server_port;
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                  proxy_set_header X-Forwarded-Proto $scheme;
                  proxy_read_timeout 1h;
                  proxy_connect_timeout 2s;
                }
              }
            }
            """;
    }
}
