using System.Buffers;
using SignalRSecure.AspNetCore.Gate;
using static SignalRSecure.Tests.Infrastructure.MessagePackFrame;

namespace SignalRSecure.Tests.Unit;

/// <summary>The message meter on MessagePack frames: each counted once, measured with its length prefix.</summary>
public sealed class MessagePackMessageMeterTests
{
    private static readonly byte[] Ping = Frame(Message(6));

    [Fact]
    public void Measure_WholeFrames_CountsEach()
    {
        var meter = new MessageMeter(lengthPrefixed: true);

        var messages = meter.Measure(Bytes([.. Ping, .. Ping, .. Frame(new byte[300])]), 1000, out var oversized);

        Assert.Equal(3, messages);
        Assert.False(oversized);
    }

    [Fact]
    public void Measure_FrameSplitInsideItsPrefixAndPayload_CountsItOnceWhole()
    {
        // 300 bytes: a two-byte prefix, split after its first byte; the payload split too.
        var frame = Frame(new byte[300]);
        var meter = new MessageMeter(lengthPrefixed: true);

        var start = MessagePackFramesTests.Segments(frame[..1], frame[1..100]);
        var first = meter.Measure(start, 1000, out _);
        meter.Advanced(start.Start);
        var second = meter.Measure(Bytes(frame), 1000, out var oversized);

        Assert.Equal((0, 1), (first, second));
        Assert.False(oversized);
    }

    [Fact]
    public void Measure_BytesReadAgainAfterAPartialConsume_AreNotCountedTwice()
    {
        var meter = new MessageMeter(lengthPrefixed: true);
        var frame = Frame(new byte[10]);
        var first = Bytes([.. Ping, .. Ping, .. frame[..4]]);
        Assert.Equal(2, meter.Measure(first, 100, out _));

        // SignalR consumed the two pings; the partial frame comes back with the rest of it.
        meter.Advanced(first.GetPosition(2 * Ping.Length));

        Assert.Equal(1, meter.Measure(Bytes(frame), 100, out _));
    }

    [Theory]
    [InlineData(97, false)]
    [InlineData(98, true)]
    public void Measure_FrameWithItsPrefixOverTheMaximum_IsOversizedAsSoonAsThePrefixArrives(int payloadLength, bool expected)
    {
        // A one-byte prefix: 97 payload bytes and their prefix fit in 98 bytes, 98 do not.
        var meter = new MessageMeter(lengthPrefixed: true);

        meter.Measure(Bytes(Prefix(payloadLength)), 98, out var oversized);

        Assert.Equal(expected, oversized);
    }

    [Fact]
    public void Measure_PrefixOverTwoGigabytes_IsOversized()
    {
        var meter = new MessageMeter(lengthPrefixed: true);

        meter.Measure(Bytes([0xff, 0xff, 0xff, 0xff, 0x08]), int.MaxValue, out var fifthByteTooLarge);
        var sixBytes = new MessageMeter(lengthPrefixed: true);
        sixBytes.Measure(Bytes([0x80, 0x80, 0x80, 0x80, 0x80]), int.MaxValue, out var prefixTooLong);

        Assert.True(fifthByteTooLarge);
        Assert.True(prefixTooLong);
    }

    [Theory]
    [InlineData(0x07, false)]
    [InlineData(0x08, true)]
    public void Measure_FifthPrefixByteOverSeven_IsOversizedEvenUnderAMaximumOverTwoGigabytes(byte fifth, bool expected)
    {
        // A fifth byte of 7 announces 2 GB - 1, the most SignalR reads; 8 announces more, whatever the maximum.
        var meter = new MessageMeter(lengthPrefixed: true);

        meter.Measure(Bytes([0xff, 0xff, 0xff, 0xff, fifth]), long.MaxValue, out var oversized);

        Assert.Equal(expected, oversized);
    }

    [Fact]
    public void Measure_EmptyPayload_CountsAMessage()
    {
        var meter = new MessageMeter(lengthPrefixed: true);

        Assert.Equal(2, meter.Measure(Bytes([0x00, 0x00]), 10, out _));
    }

    [Fact]
    public void Measure_RecordSeparatorInsideAPayload_IsNotAMessageEnd()
    {
        var meter = new MessageMeter(lengthPrefixed: true);

        var messages = meter.Measure(Bytes(Frame([0x1e, 0x1e, 0x1e, 0x1e])), 100, out _);

        Assert.Equal(1, messages);
    }

    private static ReadOnlySequence<byte> Bytes(byte[] bytes) => new(bytes);
}
