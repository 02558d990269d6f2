using System.Buffers;
using System.IO.Pipelines;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The transport SignalR sees for a gated connection: the gate's reader in front of the real input, the real output
/// until the gate has sent its close message, and then an output that discards everything and says nobody reads.
/// </summary>
public sealed class GatedTransportTests
{
    [Fact]
    public void GatedTransport_New_ReadsThroughTheGivenInputAndWritesToTheOriginalOutput()
    {
        var original = new Pipe();
        var other = new Pipe();
        var duplex = new Duplex(original.Reader, original.Writer);

        var transport = new GatedTransport(other.Reader, duplex);

        Assert.Same(other.Reader, transport.Input);
        Assert.Same(original.Writer, transport.Output);
        Assert.Same(duplex, transport.Original);
    }

    [Fact]
    public async Task DiscardOutput_AfterwardsWrites_NeverReachTheOriginalOutput()
    {
        // Arrange
        var toClient = new Pipe();
        var duplex = new Duplex(new Pipe().Reader, toClient.Writer);
        var transport = new GatedTransport(duplex.Input, duplex);
        await transport.Output.WriteAsync("close"u8.ToArray()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        transport.DiscardOutput();
        var flush = await transport.Output.WriteAsync("{\"type\":7}"u8.ToArray()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await toClient.Writer.CompleteAsync();

        // Assert: the client got exactly what was written before the swap.
        Assert.Same(DiscardingPipeWriter.Instance, transport.Output);
        Assert.Same(duplex, transport.Original);
        Assert.True(flush.IsCompleted);
        var read = await toClient.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("close", System.Text.Encoding.UTF8.GetString(read.Buffer.ToArray()));
        Assert.True(read.IsCompleted);
    }

    [Fact]
    public async Task DiscardingPipeWriter_Flush_SaysCompletedNotCanceled()
    {
        var writer = DiscardingPipeWriter.Instance;
        writer.GetSpan(10)[..3].Fill(1);
        writer.Advance(3);

        var result = await writer.FlushAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        writer.CancelPendingFlush();
        var afterCancel = await writer.FlushAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        writer.Complete(new InvalidOperationException("ignored"));
        var afterComplete = await writer.FlushAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.IsCompleted);
        Assert.False(result.IsCanceled);
        Assert.True(afterCancel.IsCompleted);
        Assert.False(afterCancel.IsCanceled);
        Assert.True(afterComplete.IsCompleted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    public void DiscardingPipeWriter_GetMemoryUpToTheScratchSize_SharesOneScratchBuffer(int sizeHint)
    {
        var writer = DiscardingPipeWriter.Instance;

        var first = writer.GetMemory(sizeHint);
        var second = writer.GetMemory(sizeHint);
        var span = writer.GetSpan(sizeHint);

        Assert.Equal(4096, first.Length);
        Assert.True(first.Span.Overlaps(second.Span, out var offset) && offset == 0);
        Assert.True(first.Span.Overlaps(span, out offset) && offset == 0);
        Assert.Equal(4096, span.Length);
    }

    [Theory]
    [InlineData(4097)]
    [InlineData(100_000)]
    public void DiscardingPipeWriter_GetMemoryOverTheScratchSize_GivesAtLeastTheHint(int sizeHint)
    {
        var writer = DiscardingPipeWriter.Instance;

        var memory = writer.GetMemory(sizeHint);
        var span = writer.GetSpan(sizeHint);

        Assert.True(memory.Length >= sizeHint);
        Assert.True(span.Length >= sizeHint);
        Assert.False(memory.Span.Overlaps(writer.GetMemory().Span));
        memory.Span[sizeHint - 1] = 1;
        span[sizeHint - 1] = 1;
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
