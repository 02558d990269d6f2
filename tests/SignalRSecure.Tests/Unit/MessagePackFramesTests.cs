using System.Buffers;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Tests.Infrastructure;
using static SignalRSecure.Tests.Infrastructure.MessagePackFrame;

namespace SignalRSecure.Tests.Unit;

public sealed class MessagePackFramesTests
{
    private static readonly object?[] NoStreams = [];

    public static TheoryData<string, byte[], string> Frames => new()
    {
        { "ping", Message(6), nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as uint8", [0x91, 0xcc, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as int64", [0x91, 0xd3, 0, 0, 0, 0, 0, 0, 0, 6], nameof(PreAuthenticationFrame.Ping) },
        { "ping with an extra item", Message(6, 1), nameof(PreAuthenticationFrame.Malformed) },
        { "ping, then a byte inside the frame", [.. Message(6), 0xc0], nameof(PreAuthenticationFrame.Malformed) },
        { "type as float", [0x91, 0xcb, 0x40, 0x18, 0, 0, 0, 0, 0, 0], nameof(PreAuthenticationFrame.Malformed) },
        { "type as string", Message("6"), nameof(PreAuthenticationFrame.Malformed) },
        { "type nil", Message([null]), nameof(PreAuthenticationFrame.Malformed) },
        { "type over Int32", [0x91, 0xce, 0x80, 0, 0, 6], nameof(PreAuthenticationFrame.Malformed) },
        { "empty array", Message(), nameof(PreAuthenticationFrame.Malformed) },
        { "not an array", Pack(6), nameof(PreAuthenticationFrame.Malformed) },
        { "a map", Pack(new Map { { "type", 6 } }), nameof(PreAuthenticationFrame.Malformed) },
        { "no bytes", [], nameof(PreAuthenticationFrame.Malformed) },
        { "never-used code", [0xc1], nameof(PreAuthenticationFrame.Malformed) },
        { "close, nil error", Message(7, null), nameof(PreAuthenticationFrame.Close) },
        { "close with error", Message(7, "bye"), nameof(PreAuthenticationFrame.Close) },
        { "close with allowReconnect", Message(7, "bye", true), nameof(PreAuthenticationFrame.Close) },
        { "close without error", Message(7), nameof(PreAuthenticationFrame.Malformed) },
        { "close, numeric error", Message(7, 5), nameof(PreAuthenticationFrame.Malformed) },
        { "close, string allowReconnect", Message(7, "bye", "x"), nameof(PreAuthenticationFrame.Malformed) },
        { "close with a fourth item", Message(7, "bye", true, 1), nameof(PreAuthenticationFrame.Malformed) },
        { "close, invalid UTF-8", Message(7, new Raw(0xa2, 0xc3, 0x28)), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, str8 ticket", Message(1, new Map(), "1", "Authenticate", new object?[] { new Raw(0xd9, 3, 0x61, 0x62, 0x63) }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, string headers", Message(1, new Map { { "a", "b" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, header twice", Message(1, new Map { { "a", "b" }, { "a", "c" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, numeric header", Message(1, new Map { { "a", 1 } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, empty header value", Message(1, new Map { { "a", "" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, empty header key", Message(1, new Map { { "", "b" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, nil header key", Message(1, new Map { { null, "b" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, two headers", Message(1, new Map { { "a", "b" }, { "c", "d" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, headers an array", Message(1, NoStreams, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, nil invocation id", Message(1, new Map(), null, "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, empty invocation id", Message(1, new Map(), "", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, numeric invocation id", Message(1, new Map(), 5, "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, no arguments", Message(1, new Map(), "1", "Authenticate", NoStreams, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, two arguments", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", "def" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, numeric argument", Message(1, new Map(), "1", "Authenticate", new object?[] { 42 }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, nil argument", Message(1, new Map(), "1", "Authenticate", new object?[] { null }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, map argument", Message(1, new Map(), "1", "Authenticate", new object?[] { new Map { { "user", "admin" } } }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, binary argument", Message(1, new Map(), "1", "Authenticate", new object?[] { new byte[] { 0x61 } }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, invalid UTF-8 ticket", Message(1, new Map(), "1", "Authenticate", new object?[] { new Raw(0xa2, 0xc3, 0x28) }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, arguments a string", Message(1, new Map(), "1", "Authenticate", "abc", NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, a stream", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, new object?[] { "1" }), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, streams a string", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, "abc"), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, five items (no stream ids, as the JavaScript client writes it)", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, five items, a second argument", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", "def" }), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, seven items", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams, "x"), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, four items", Message(1, new Map(), "1", "Authenticate"), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, then a byte inside the frame", [.. Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams), 0x90], nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, truncated", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams)[..^2], nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, header announcing more items", [.. ArrayHeader(7).Bytes, .. Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams)[1..]], nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, argument nested deep", Message(1, new Map(), "1", "Authenticate", new object?[] { new object?[] { new object?[] { new object?[] { 1 } } } }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, argument nested within the limit", Message(1, new Map(), "1", "Authenticate", new object?[] { new object?[] { new object?[] { 1 } } }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "lower-case authenticate", Message(1, new Map(), "1", "authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Invocation) },
        { "echo", Message(1, new Map(), "1", "Echo", new object?[] { "hi" }, NoStreams), nameof(PreAuthenticationFrame.Invocation) },
        { "numeric target", Message(1, new Map(), "1", 42, new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "nil target", Message(1, new Map(), "1", null, new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "invocation without target", Message(1, new Map(), "1"), nameof(PreAuthenticationFrame.Malformed) },
        { "stream item", Message(2, new Map(), "1", "x"), nameof(PreAuthenticationFrame.StreamItem) },
        { "completion", Message(3, new Map(), "1", 3, "x"), nameof(PreAuthenticationFrame.Completion) },
        { "stream invocation of Authenticate", Message(4, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.StreamInvocation) },
        { "cancel", Message(5, new Map(), "1"), nameof(PreAuthenticationFrame.CancelInvocation) },
        { "ack", Message(8, 1), nameof(PreAuthenticationFrame.Other) },
        { "sequence", Message(9, 1), nameof(PreAuthenticationFrame.Other) },
        { "unknown type", Message(99), nameof(PreAuthenticationFrame.Other) },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void Classify_Frame_IsReadAsSignalRReadsIt(string name, byte[] payload, string expected)
    {
        var kind = MessagePackFrames.Classify(new ReadOnlySequence<byte>(payload));

        Assert.True(expected == kind.ToString(), $"{name}: {kind}");
    }

    public static TheoryData<string, byte[], string> MoreFrames => new()
    {
        { "ping, type as int8", [0x91, 0xd0, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as uint16", [0x91, 0xcd, 0x00, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as int16", [0x91, 0xd1, 0x00, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as uint32", [0x91, 0xce, 0, 0, 0, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as int32", [0x91, 0xd2, 0, 0, 0, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "ping, type as uint64", [0x91, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x06], nameof(PreAuthenticationFrame.Ping) },
        { "type uint16, truncated", [0x91, 0xcd, 0x06], nameof(PreAuthenticationFrame.Malformed) },
        { "type uint32, truncated", [0x91, 0xce, 0, 0, 0x06], nameof(PreAuthenticationFrame.Malformed) },
        { "type uint64, truncated", [0x91, 0xcf, 0, 0, 0, 0, 0, 0, 0x06], nameof(PreAuthenticationFrame.Malformed) },
        { "type -1 as negative fixint", [0x91, 0xff], nameof(PreAuthenticationFrame.Other) },
        { "type -1 as int32", [0x91, 0xd2, 0xff, 0xff, 0xff, 0xff], nameof(PreAuthenticationFrame.Other) },
        { "type 2^32-1 as uint32, over Int32", [0x91, 0xce, 0xff, 0xff, 0xff, 0xff], nameof(PreAuthenticationFrame.Malformed) },
        { "type 2^31 as uint64, over Int32", [0x91, 0xcf, 0, 0, 0, 0, 0x80, 0, 0, 0], nameof(PreAuthenticationFrame.Malformed) },
        { "type 2^32+6 as int64, over Int32 (6 if cut to 32 bits)", [0x91, 0xd3, 0, 0, 0, 0x01, 0, 0, 0, 0x06], nameof(PreAuthenticationFrame.Malformed) },
        { "type -2^32+6 as int64, under Int32", [0x91, 0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x06], nameof(PreAuthenticationFrame.Malformed) },
        { "type -1 as int64", [0x91, 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], nameof(PreAuthenticationFrame.Other) },
        { "close, allowReconnect false", Message(7, "bye", false), nameof(PreAuthenticationFrame.Close) },
        { "close, then a byte inside the frame", [.. Message(7, "bye"), 0xc0], nameof(PreAuthenticationFrame.Malformed) },
        { "close with allowReconnect, then a byte inside the frame", [.. Message(7, "bye", true), 0xc0], nameof(PreAuthenticationFrame.Malformed) },
        { "close, empty str8 error", Message(7, new Raw(0xd9, 0)), nameof(PreAuthenticationFrame.Close) },
        { "close, empty str16 error", Message(7, new Raw(0xda, 0, 0)), nameof(PreAuthenticationFrame.Close) },
        { "close, empty str32 error", Message(7, new Raw(0xdb, 0, 0, 0, 0)), nameof(PreAuthenticationFrame.Close) },
        { "close, str16 error one byte short", Message(7, new Raw(0xda, 0, 2, 0x61)), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, a string and a number", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", 42 }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, arguments as array16", Message(1, new Map(), "1", "Authenticate", new Raw(0xdc, 0, 1, 0xa3, 0x61, 0x62, 0x63), NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, arguments as array32", Message(1, new Map(), "1", "Authenticate", new Raw(0xdd, 0, 0, 0, 1, 0xa3, 0x61, 0x62, 0x63), NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, headers as map16", Message(1, new Raw(0xde, 0, 1, 0xa1, 0x61, 0xa1, 0x62), "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, headers as map32", Message(1, new Raw(0xdf, 0, 0, 0, 1, 0xa1, 0x61, 0xa1, 0x62), "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, header value nested within the limit", Message(1, new Map { { "a", new object?[] { new object?[] { 1 } } } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, header value nested deep", Message(1, new Map { { "a", new object?[] { new object?[] { new object?[] { 1 } } } } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, header key nested deep", Message(1, new Map { { new object?[] { new object?[] { new object?[] { 1 } } }, "b" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, headers nil", Message(1, null, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, headers nested deep", Message(1, new object?[] { new object?[] { new object?[] { new object?[] { 1 } } } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, invocation id nested within the limit", Message(1, new Map(), new object?[] { new object?[] { 1 } }, "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, invocation id nested deep", Message(1, new Map(), new object?[] { new object?[] { new object?[] { new object?[] { 1 } } } }, "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, arguments a deep map", Message(1, new Map(), "1", "Authenticate", new Map { { "a", new object?[] { new object?[] { new object?[] { 1 } } } } }, NoStreams), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, a stream id nested within the limit", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, new object?[] { new object?[] { 1 } }), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, a stream id nested deep", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, new object?[] { new object?[] { new object?[] { new object?[] { 1 } } } }), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, stream ids a deep map", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, new Map { { "a", new object?[] { new object?[] { new object?[] { 1 } } } } }), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, seventh item nested deep", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams, new object?[] { new object?[] { new object?[] { new object?[] { 1 } } } }), nameof(PreAuthenticationFrame.Malformed) },
        { "empty array, then a type inside the frame", [0x90, 0x02], nameof(PreAuthenticationFrame.Malformed) },
        { "array header alone", [0x91], nameof(PreAuthenticationFrame.Malformed) },
        { "type 127, the largest positive fixint", [0x91, 0x7f], nameof(PreAuthenticationFrame.Other) },
        { "type -32, the smallest negative fixint", [0x91, 0xe0], nameof(PreAuthenticationFrame.Other) },
        { "type Int32.MaxValue as uint32", [0x91, 0xce, 0x7f, 0xff, 0xff, 0xff], nameof(PreAuthenticationFrame.Other) },
        { "type Int32.MaxValue as uint64", [0x91, 0xcf, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff], nameof(PreAuthenticationFrame.Other) },
        { "type Int32.MaxValue + 1 as int64", [0x91, 0xd3, 0, 0, 0, 0, 0x80, 0, 0, 0], nameof(PreAuthenticationFrame.Malformed) },
        { "type Int32.MinValue as int32", [0x91, 0xd2, 0x80, 0, 0, 0], nameof(PreAuthenticationFrame.Other) },
        { "type Int32.MinValue as int64", [0x91, 0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0], nameof(PreAuthenticationFrame.Other) },
        { "type Int32.MinValue - 1 as int64", [0x91, 0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff], nameof(PreAuthenticationFrame.Malformed) },
        { "close of one item, then a boolean inside the frame", [0x91, 0x07, 0xc3], nameof(PreAuthenticationFrame.Malformed) },
        { "close, numeric allowReconnect", Message(7, "bye", 1), nameof(PreAuthenticationFrame.Malformed) },
        { "close, nil allowReconnect", Message(7, "bye", null), nameof(PreAuthenticationFrame.Malformed) },
        { "close announcing allowReconnect, the frame ending after the error", [0x93, 0x07, 0xc0], nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, stream ids announcing more items than the frame holds", Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, new Raw(0x92, 0xa1, 0x31)), nameof(PreAuthenticationFrame.Malformed) },
        { "authenticate, a header three times", Message(1, new Map { { "a", "b" }, { "a", "c" }, { "a", "d" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, an empty header value, then a header twice", Message(1, new Map { { "x", "" }, { "a", "b" }, { "a", "c" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, empty header key and value", Message(1, new Map { { "", "" } }, "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { "authenticate, a 31-byte ticket (the longest fixstr)", Message(1, new Map(), "1", "Authenticate", new object?[] { new string('t', 31) }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, 15 headers (the largest fixmap)", Message(1, Headers(15), "1", "Authenticate", new object?[] { "abc" }, NoStreams), nameof(PreAuthenticationFrame.Authenticate) },
        { "authenticate, 15 arguments (the largest fixarray)", Message(1, new Map(), "1", "Authenticate", Enumerable.Repeat<object?>("abc", 15).ToArray(), NoStreams), nameof(PreAuthenticationFrame.MalformedAuthenticate) },
    };

    [Theory]
    [MemberData(nameof(MoreFrames))]
    public void Classify_EncodingsAndLimits_AreReadAsSignalRReadsThem(string name, byte[] payload, string expected)
    {
        var kind = MessagePackFrames.Classify(new ReadOnlySequence<byte>(payload));

        Assert.True(expected == kind.ToString(), $"{name}: {kind}");
    }

    // Every MessagePack encoding the reader must skip whole: its bytes after the type code are 0xc1 (a code never used),
    // so that a skip one byte short or long lands on something unreadable and shows.
    public static TheoryData<string, byte[]> SkippedValues => new()
    {
        { "positive fixint", [0x05] },
        { "negative fixint", [0xff] },
        { "positive fixint 127, the largest", [0x7f] },
        { "negative fixint -32, the smallest", [0xe0] },
        { "nil", [0xc0] },
        { "false", [0xc2] },
        { "true", [0xc3] },
        { "uint8", [0xcc, 0xc1] },
        { "int8", [0xd0, 0xc1] },
        { "uint16", [0xcd, 0xc1, 0xc1] },
        { "int16", [0xd1, 0xc1, 0xc1] },
        { "float32", [0xca, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "uint32", [0xce, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "int32", [0xd2, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "float64", [0xcb, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "uint64", [0xcf, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "int64", [0xd3, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "fixext1", [0xd4, 0x01, 0xc1] },
        { "fixext2", [0xd5, 0x01, 0xc1, 0xc1] },
        { "fixext4", [0xd6, 0x01, 0xc1, 0xc1, 0xc1, 0xc1] },
        { "fixext8", [0xd7, 0x01, .. Enumerable.Repeat((byte)0xc1, 8)] },
        { "fixext16", [0xd8, 0x01, .. Enumerable.Repeat((byte)0xc1, 16)] },
        { "bin8", [0xc4, 0x02, 0xc1, 0xc1] },
        { "bin16", [0xc5, 0x00, 0x02, 0xc1, 0xc1] },
        { "bin32", [0xc6, 0x00, 0x00, 0x00, 0x02, 0xc1, 0xc1] },
        { "ext8", [0xc7, 0x02, 0x01, 0xc1, 0xc1] },
        { "ext16", [0xc8, 0x00, 0x02, 0x01, 0xc1, 0xc1] },
        { "ext32", [0xc9, 0x00, 0x00, 0x00, 0x02, 0x01, 0xc1, 0xc1] },
        { "fixstr of invalid UTF-8", [0xa2, 0xc3, 0x28] },
        { "str8 of invalid UTF-8", [0xd9, 0x02, 0xc3, 0x28] },
        { "str16 of invalid UTF-8", [0xda, 0x00, 0x02, 0xc3, 0x28] },
        { "str32 of invalid UTF-8", [0xdb, 0x00, 0x00, 0x00, 0x02, 0xc3, 0x28] },
        { "array16", [0xdc, 0x00, 0x01, 0x05] },
        { "array32", [0xdd, 0x00, 0x00, 0x00, 0x01, 0x05] },
        { "fixmap", [0x81, 0xa1, 0x61, 0x05] },
        { "fixmap of 15 entries, the largest", [0x8f, .. Enumerable.Repeat((byte)0x05, 30)] },
        { "map16", [0xde, 0x00, 0x01, 0xa1, 0x61, 0x05] },
        { "map32", [0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 0x61, 0x05] },
    };

    [Theory]
    [MemberData(nameof(SkippedValues))]
    public void Classify_AuthenticateWithASecondArgumentOfAnyEncoding_IsAMalformedAuthenticate(string name, byte[] value)
    {
        // Arrange: the value in the middle of the frame (the stream ids follow), and as the frame's last bytes.
        var inTheMiddle = Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", new Raw(value) }, NoStreams);
        var atTheEnd = Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", new Raw(value) });
        var cutShort = Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", new Raw(value) })[..^1];

        // Act
        var kinds = (Classify(inTheMiddle), Classify(atTheEnd), Classify(cutShort));

        // Assert: skipped whole, so the frame reads on as SignalR reads it; a value cut short is unreadable.
        Assert.True(
            (PreAuthenticationFrame.MalformedAuthenticate, PreAuthenticationFrame.MalformedAuthenticate, PreAuthenticationFrame.Malformed) == kinds,
            $"{name}: {kinds}");
    }

    public static TheoryData<string, byte[]> UnreadableItems => new()
    {
        { "a code never used", [0xc1] },
        { "a uint16 cut short", [0xcd, 0x01] },
    };

    [Theory]
    [MemberData(nameof(UnreadableItems))]
    public async Task Classify_ArrayAnnouncingBillionsOfItems_IsRefusedAtItsFirstUnreadableItem(string name, byte[] item)
    {
        // Arrange: a 2 KB frame can announce 2^32 - 1 items; the first one that cannot be read ends the frame's reading.
        var frame = Message(1, new Map(), "1", "Authenticate", new object?[] { "abc", new Raw([0xdd, 0xff, 0xff, 0xff, 0xff, .. item]) });

        // Act
        var kind = await Task.Run(() => Classify(frame)).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.True(kind == PreAuthenticationFrame.Malformed, $"{name}: {kind}");
    }

    [Fact]
    public void Classify_InvocationIdOfAnotherType_IsSkippedWhole()
    {
        var echo = Message(1, new Map(), 5, "Echo", new object?[] { "hi" }, NoStreams);
        var truncated = Message(1, new Map(), new Raw(0xcd, 0x00));

        Assert.Equal(PreAuthenticationFrame.Invocation, Classify(echo));
        Assert.Equal(PreAuthenticationFrame.Malformed, Classify(truncated));
    }

    private static Map Headers(int count)
    {
        var headers = new Map();
        for (var i = 0; i < count; i++)
        {
            headers.Add($"h{i}", "v");
        }

        return headers;
    }

    private static PreAuthenticationFrame Classify(byte[] payload) => MessagePackFrames.Classify(new ReadOnlySequence<byte>(payload));

    [Fact]
    public void Classify_FrameSplitAcrossSegments_ReadsLikeOneSegment()
    {
        var payload = Message(1, new Map(), "1", "Authenticate", new object?[] { "abc" }, NoStreams);

        var kind = MessagePackFrames.Classify(Segments(payload[..5], payload[5..9], payload[9..]));

        Assert.Equal(PreAuthenticationFrame.Authenticate, kind);
    }

    public static TheoryData<byte[], OperationStatus, int, int> Prefixes => new()
    {
        { [0x00], OperationStatus.Done, 1, 0 },
        { [0x7f, 0xff], OperationStatus.Done, 1, 127 },
        { [0x80, 0x01], OperationStatus.Done, 2, 128 },
        { [0xff, 0xff, 0xff, 0xff, 0x07], OperationStatus.Done, 5, int.MaxValue },
        { [], OperationStatus.NeedMoreData, 0, 0 },
        { [0x80], OperationStatus.NeedMoreData, 0, 0 },
        { [0xff, 0xff, 0xff, 0xff], OperationStatus.NeedMoreData, 0, 0 },
        { [0xff, 0xff, 0xff, 0xff, 0x08], OperationStatus.InvalidData, 0, 0 },
        { [0xff, 0xff, 0xff, 0xff, 0x80], OperationStatus.InvalidData, 0, 0 },
        { [0x80, 0x00], OperationStatus.InvalidData, 0, 0 },
        { [0x81, 0x80, 0x00], OperationStatus.InvalidData, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Prefixes))]
    public void ReadLengthPrefix_Bytes_ReadAsSignalRsParserOrRefused(byte[] bytes, OperationStatus status, int prefixLength, int payloadLength)
    {
        var read = MessagePackFrames.ReadLengthPrefix(new ReadOnlySequence<byte>(bytes), out var prefix, out var payload);

        Assert.Equal((status, prefixLength, payloadLength), (read, prefix, payload));
    }

    [Fact]
    public void ReadLengthPrefix_SplitAcrossSegments_ReadsTheWholePrefix()
    {
        var read = MessagePackFrames.ReadLengthPrefix(Segments([0x80], [0x01, 0x00]), out var prefix, out var payload);

        Assert.Equal((OperationStatus.Done, 2, 128), (read, prefix, payload));
    }

    internal static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(part);
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
