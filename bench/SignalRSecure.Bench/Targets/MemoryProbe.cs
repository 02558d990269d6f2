using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace SignalRSecure.Bench.Targets;

/// <summary>What a server's probe reports after a full collection.</summary>
internal sealed record HeapReport(long HeapBytes, long CommittedBytes, bool ServerGc, int ProcessorCount);

/// <summary>Asks the probe in a server (the startup hook, or N's own) for its heap after a full collection.</summary>
internal sealed class MemoryProbe(string socketPath)
{
    public string SocketPath => socketPath;

    public async Task<HeapReport> CollectAsync()
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath)).WaitAsync(TimeSpan.FromSeconds(10));
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync("gc\n"u8.ToArray());
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
            ?? throw new InvalidOperationException("the probe closed without answering");
        return JsonSerializer.Deserialize<HeapReport>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }
}
