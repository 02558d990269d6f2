using System.Buffers;
using System.Text;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

public sealed class PreAuthenticationFramesTests
{
    public static TheoryData<string, string> Frames => new()
    {
        { """{"type":6}""", nameof(PreAuthenticationFrame.Ping) },
        { """{"type":7}""", nameof(PreAuthenticationFrame.Close) },
        { """{"type":7,"error":"bye","allowReconnect":false}""", nameof(PreAuthenticationFrame.Close) },
        { """{"type":7,"error":null}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":7,"allowReconnect":"x"}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":7,"invocationId":"1"}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6,"invocationId":5}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6,"invocationId":"1"}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6,"headers":[]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6,"type":6}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6,"x":1,"x":1}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6,"x":{"type":1,"target":"Authenticate","arguments":["abc"]}}""", nameof(PreAuthenticationFrame.Ping) },
        { """{"x":{"type":6},"type":1,"target":"Echo","arguments":[]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":null}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":6.0}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"typ\u0065":6}""", nameof(PreAuthenticationFrame.Ping) },
        { """{"type":1,"invocationId":"0","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"arguments":["abc"],"target":"Authenticate","type":1}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":[]}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":["1"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["a","b"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[42]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[null]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[{"user":"admin"}]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc",42]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"arguments":[]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"type":1,"target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"invocationId":5,"target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"invocationId":null,"target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":"abc"}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":"abc"}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"headers":{"a":"b"}}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"headers":{"type":6}}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"headers":{"a":"b","a":"c"}}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"item":1}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"result":1}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"error":"x"}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"allowReconnect":true}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"sequenceId":1}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authentic\u0061te","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"type":1,"target":42,"arguments":["abc"]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"arguments":["abc"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"Echo","arguments":["hi"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"NoSuchMethod","arguments":[]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":2,"invocationId":"1","item":"x"}""", nameof(PreAuthenticationFrame.StreamItem) },
        { """{"type":3,"invocationId":"1","result":1}""", nameof(PreAuthenticationFrame.Completion) },
        { """{"type":4,"invocationId":"1","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.StreamInvocation) },
        { """{"type":5,"invocationId":"1"}""", nameof(PreAuthenticationFrame.CancelInvocation) },
        { """{"type":8,"sequenceId":1}""", nameof(PreAuthenticationFrame.Other) },
        { """{"type":99}""", nameof(PreAuthenticationFrame.Other) },
        { """{"type":"1","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """[1,2,3]""", nameof(PreAuthenticationFrame.Malformed) },
        { """not json""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"]""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1}{"type":6}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Echo","arguments":[[[[[[[["deep"]]]]]]]]}""", nameof(PreAuthenticationFrame.Malformed) },
        { string.Empty, nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"sequenceId":"x"}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":8,"sequenceId":1.5}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":3,"invocationId":"1","result":{"a":1}}""", nameof(PreAuthenticationFrame.Completion) },
        { """{"type":2,"invocationId":"1","item":[1,[2]]}""", nameof(PreAuthenticationFrame.StreamItem) },
        { """{"type":1,"target":"Authenticate","arguments":{"a":"abc"}}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Echo","arguments":"x"}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Echo","arguments":[["x"],"y"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"Authenticate","arguments":[["x"],"y"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":{"a":"b"}}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Echo","arguments":[],"streamIds":[1]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Echo","arguments":[],"streamIds":["1"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"Echo","arguments":[],"streamIds":["1",2]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":[["x"]]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"headers":["x"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Echo","arguments":[],"headers":[]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Echo","arguments":[],"headers":{"a":"b"}}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"headers":{"a":{"b":"c"}}}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Echo","arguments":[],"headers":{"a":"b","c":1}}""", nameof(PreAuthenticationFrame.Malformed) },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void Classify_Frame_ReturnsItsKind(string json, string expected)
    {
        var frame = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json));

        Assert.Equal(Enum.Parse<PreAuthenticationFrame>(expected), PreAuthenticationFrames.Classify(frame));
    }

    [Fact]
    public void Classify_InvalidUtf8_IsMalformed()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("{\"type\":1,\"target\":\"Authenticate\",\"arguments\":[\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"]}")];

        Assert.Equal(PreAuthenticationFrame.Malformed, PreAuthenticationFrames.Classify(new ReadOnlySequence<byte>(bytes)));
    }
}
