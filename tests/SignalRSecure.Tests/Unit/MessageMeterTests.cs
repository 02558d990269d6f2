using System.Buffers;
using System.Text;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

public sealed class MessageMeterTests
{
    private const char Separator = '\u001e';

    [Fact]
    public void Measure_WholeMessages_CountsEach()
    {
        var meter = new MessageMeter();

        var messages = meter.Measure(Sequence($"a{Separator}bb{Separator}ccc{Separator}"), 100, out var oversized);

        Assert.Equal(3, messages);
        Assert.False(oversized);
    }

    [Fact]
    public void Measure_BytesReadAgainAfterAPartialConsume_AreNotCountedTwice()
    {
        var meter = new MessageMeter();
        var first = Sequence($"a{Separator}b{Separator}par");
        Assert.Equal(2, meter.Measure(first, 100, out _));

        // SignalR consumed the two whole messages; the partial one comes back with the rest of it.
        meter.Advanced(first.GetPosition(4));
        var second = Sequence($"partial{Separator}");

        Assert.Equal(1, meter.Measure(second, 100, out _));
    }

    [Fact]
    public void Measure_BufferNotAtTheStartOfItsMemory_CountsTheRereadBytesOnce()
    {
        // A pipe hands out slices of its segments: the buffer rarely starts at offset 0 of the memory.
        var meter = new MessageMeter();
        var memory = Encoding.UTF8.GetBytes($"0123456789a{Separator}par");
        var first = new ReadOnlySequence<byte>(memory, 10, memory.Length - 10);
        Assert.Equal(1, meter.Measure(first, 100, out _));

        meter.Advanced(first.GetPosition(2));

        Assert.Equal(1, meter.Measure(Sequence($"partial{Separator}"), 100, out var oversized));
        Assert.False(oversized);
    }

    [Fact]
    public void Measure_SegmentsWithARunningIndex_CountTheRereadBytesOnce()
    {
        var meter = new MessageMeter();
        var first = Sequence(runningIndex: 5_000, "xx" + "a" + Separator + "b", "c" + Separator + "par");
        var fromThirdByte = first.Slice(2);
        Assert.Equal(2, meter.Measure(fromThirdByte, 100, out _));

        meter.Advanced(fromThirdByte.GetPosition(5));

        Assert.Equal(1, meter.Measure(Sequence($"partial{Separator}"), 100, out _));
    }

    [Fact]
    public void Measure_NothingConsumed_CountsOnlyTheNewBytes()
    {
        var meter = new MessageMeter();
        var first = Sequence("12345");
        Assert.Equal(0, meter.Measure(first, 100, out _));
        meter.Advanced(first.Start);

        Assert.Equal(1, meter.Measure(Sequence($"12345678{Separator}"), 100, out _));
    }

    [Fact]
    public void Measure_AcrossSegments_CountsAndMeasuresTheWholeMessage()
    {
        var meter = new MessageMeter();

        var messages = meter.Measure(Sequence("aaaa", $"bb{Separator}c", $"cc{Separator}"), 7, out var oversized);

        Assert.Equal(2, messages);
        Assert.False(oversized);
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(10, true)]
    public void Measure_MessageWithItsSeparatorOverTheMaximum_IsOversized(int length, bool expected)
    {
        var meter = new MessageMeter();

        meter.Measure(Sequence(new string('x', length) + Separator), 10, out var oversized);

        Assert.Equal(expected, oversized);
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(10, true)]
    public void Measure_UnfinishedMessageThatCanNoLongerFit_IsOversizedBeforeItEnds(int length, bool expected)
    {
        var meter = new MessageMeter();

        meter.Measure(Sequence(new string('x', length)), 10, out var oversized);

        Assert.Equal(expected, oversized);
    }

    [Fact]
    public void Measure_MessageGrowingOverSeveralReads_IsMeasuredAsOne()
    {
        var meter = new MessageMeter();
        var first = Sequence("xxxxxx");
        meter.Measure(first, 10, out var early);
        meter.Advanced(first.Start);

        meter.Measure(Sequence("xxxxxxxxxx"), 10, out var late);

        Assert.False(early);
        Assert.True(late);
    }

    [Fact]
    public void Measure_SeparatorArrivingAloneInALaterRead_EndsTheMessage()
    {
        // The separator is the first unseen byte of the second read.
        var meter = new MessageMeter();
        var first = Sequence("xxxxx");
        meter.Measure(first, 10, out _);
        meter.Advanced(first.Start);

        var messages = meter.Measure(Sequence($"xxxxx{Separator}"), 10, out var oversized);

        Assert.Equal(1, messages);
        Assert.False(oversized);
    }

    [Fact]
    public void Measure_SeparatorStartingASegment_EndsTheMessageBeforeIt()
    {
        // 9 bytes and their separator fit in 10; measured as one message running on, the second would not.
        var meter = new MessageMeter();

        var messages = meter.Measure(Sequence("xxxxxxxxx", $"{Separator}yyyyyyyy{Separator}"), 10, out var oversized);

        Assert.Equal(2, messages);
        Assert.False(oversized);
    }

    [Fact]
    public void Measure_TwoOversizedMessagesInOneRead_IsOversized()
    {
        var meter = new MessageMeter();
        var tooLong = new string('x', 10) + Separator;

        meter.Measure(Sequence(tooLong + tooLong), 10, out var oversized);

        Assert.True(oversized);
    }

    [Fact]
    public void Measure_OversizedMessageThenAnUnfinishedOneThatCanNoLongerFit_IsOversized()
    {
        var meter = new MessageMeter();

        meter.Measure(Sequence(new string('x', 10) + Separator + new string('y', 10)), 10, out var oversized);

        Assert.True(oversized);
    }

    [Fact]
    public void Measure_AdvanceOfAReadThatWasNotMeasured_ChangesNothing()
    {
        // A canceled or empty read reaches SignalR unmeasured, and SignalR advances it too: the meter keeps its place.
        var meter = new MessageMeter();
        var first = Sequence("xxxxx");
        meter.Measure(first, 10, out _);
        meter.Advanced(first.Start);
        meter.Advanced(first.Start);

        var messages = meter.Measure(Sequence($"xxxxxxxx{Separator}"), 10, out var oversized);

        Assert.Equal(1, messages);
        Assert.False(oversized);
    }

    private static ReadOnlySequence<byte> Sequence(params string[] segments) => Sequence(runningIndex: 0, segments);

    private static ReadOnlySequence<byte> Sequence(long runningIndex, params string[] segments)
    {
        if (segments.Length == 1)
        {
            return new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(segments[0]));
        }

        var first = new Segment(Encoding.UTF8.GetBytes(segments[0]), runningIndex);
        var last = first;
        foreach (var text in segments.Skip(1))
        {
            last = last.Append(Encoding.UTF8.GetBytes(text));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
