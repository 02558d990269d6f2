using System.IO.Pipelines;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>A <see cref="PipeWriter"/> that accepts everything and keeps nothing, its reader already gone.</summary>
internal sealed class DiscardingPipeWriter : PipeWriter
{
    public static readonly DiscardingPipeWriter Instance = new();

    private const int ScratchSize = 4096;

    // Writers fill this and nothing ever reads it, so every connection can share it, even concurrently.
    private readonly byte[] _scratch = new byte[ScratchSize];

    private DiscardingPipeWriter()
    {
    }

    public override void Advance(int bytes)
    {
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => sizeHint <= ScratchSize ? _scratch : new byte[sizeHint];

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }

    // Completed: whoever writes learns that nobody reads any more.
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        new(new FlushResult(isCanceled: false, isCompleted: true));
}
