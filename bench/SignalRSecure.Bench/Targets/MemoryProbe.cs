using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace SignalRSecure.Bench.Targets;

/// <summary>What a server's probe reports after a full collection.</summary>
/// <remarks>
/// <see cref="PinnedObjectBytes"/> is the pinned object heap, where Kestrel's memory pool keeps its blocks: what a
/// burst of connections leaves there is the pool's, not the application's.
/// </remarks>
internal sealed record HeapReport(long HeapBytes, long CommittedBytes, bool ServerGc, int ProcessorCount, long LargeObjectBytes = 0, long PinnedObjectBytes = 0);

/// <summary>
/// What a .NET server's runtime did so far (no collection forced): bytes allocated, collections per generation, the
/// total time the GC paused the process, thread-pool work items completed and its threads.
/// </summary>
internal sealed record RuntimeCounters(long AllocatedBytes, int Gen0, int Gen1, int Gen2, double PauseMs, long WorkItems, int Threads)
{
    public RuntimeCounters Minus(RuntimeCounters before) =>
        new(AllocatedBytes - before.AllocatedBytes, Gen0 - before.Gen0, Gen1 - before.Gen1, Gen2 - before.Gen2, PauseMs - before.PauseMs, WorkItems - before.WorkItems, Threads);
}

/// <summary>Asks the probe in a server (the startup hook, or N's own) for its heap after a full collection.</summary>
internal sealed class MemoryProbe(string socketPath)
{
    public string SocketPath => socketPath;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<HeapReport> CollectAsync() =>
        JsonSerializer.Deserialize<HeapReport>(await AskAsync("gc"), Json)!;

    /// <summary>The runtime's counters, or null when the probe does not know them (N).</summary>
    public async Task<RuntimeCounters?> CountersAsync()
    {
        var answer = await AskAsync("counters");
        return answer == "{}" ? null : JsonSerializer.Deserialize<RuntimeCounters>(answer, Json);
    }

    /// <summary>How many methods the server's JIT has compiled so far, or null when the probe does not say (N).</summary>
    public async Task<long?> CompiledMethodsAsync() =>
        JsonSerializer.Deserialize<JitReport>(await AskAsync("jit"), Json)!.CompiledMethods;

    private async Task<string> AskAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath)).WaitAsync(TimeSpan.FromSeconds(10));
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
            ?? throw new InvalidOperationException("the probe closed without answering");
    }

    private sealed record JitReport(long? CompiledMethods);
}
