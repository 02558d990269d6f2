using System.Net.Sockets;
using System.Runtime;
using System.Text;

// The runtime finds a startup hook by this exact type name, outside any namespace (DOTNET_STARTUP_HOOKS).
#pragma warning disable CA1050

/// <summary>
/// Loaded by the runtime into a server under benchmark through <c>DOTNET_STARTUP_HOOKS</c>, before its <c>Main</c>:
/// when <c>BENCH_PROBE_SOCKET</c> names a path, listens there and answers each <c>gc</c> line with the managed heap
/// after a full, compacting, blocking collection, and each <c>jit</c> line with the number of methods the JIT has
/// compiled so far (tier-ups included), which stops growing once the server is warm. The server's own code is not
/// touched.
/// </summary>
internal static class StartupHook
{
    /// <summary>Starts the probe's listener on a background thread.</summary>
    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("BENCH_PROBE_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(4);
        new Thread(() => Serve(listener)) { IsBackground = true, Name = "bench-probe" }.Start();
    }

    private static void Serve(Socket listener)
    {
        while (true)
        {
            using var client = listener.Accept();
            using var stream = new NetworkStream(client);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            using var writer = new StreamWriter(stream, Encoding.ASCII) { AutoFlush = true };
            while (reader.ReadLine() is { } command)
            {
                writer.WriteLine(command switch
                {
                    "gc" => Measure(),
                    "jit" => FormattableString.Invariant($"{{\"compiledMethods\":{System.Runtime.JitInfo.GetCompiledMethodCount()}}}"),
                    "counters" => Counters(),
                    _ => "{}",
                });
            }
        }
    }

    // Without a collection: what the process allocated and collected so far, to difference over a scenario. These
    // counts hardly depend on how busy the machine is, unlike the latencies they explain.
    private static string Counters() => FormattableString.Invariant(
        $"{{\"allocatedBytes\":{GC.GetTotalAllocatedBytes(false)},\"gen0\":{GC.CollectionCount(0)},\"gen1\":{GC.CollectionCount(1)},\"gen2\":{GC.CollectionCount(2)},\"pauseMs\":{GC.GetTotalPauseDuration().TotalMilliseconds:F1},\"workItems\":{ThreadPool.CompletedWorkItemCount},\"threads\":{ThreadPool.ThreadCount}}}");

    private static string Measure()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        return FormattableString.Invariant(
            $"{{\"heapBytes\":{GC.GetTotalMemory(false)},\"committedBytes\":{info.TotalCommittedBytes},\"serverGc\":{(GCSettings.IsServerGC ? "true" : "false")},\"processorCount\":{Environment.ProcessorCount},\"largeObjectBytes\":{info.GenerationInfo[3].SizeAfterBytes},\"pinnedObjectBytes\":{info.GenerationInfo[4].SizeAfterBytes}}}");
    }
}
