using System.Buffers;
using System.Text;
using SignalRSecure.Server.Gate;

namespace SignalRSecure.Tests.Unit;

public sealed class PreAuthenticationFramesTests
{
    public static TheoryData<string, string> Frames => new()
    {
        { """{"type":6}""", nameof(PreAuthenticationFrame.Ping) },
        { """{"type":7,"error":null}""", nameof(PreAuthenticationFrame.Close) },
        { """{"type":1,"invocationId":"0","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"arguments":["abc"],"target":"Authenticate","type":1}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":[]}""", nameof(PreAuthenticationFrame.Authenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"],"streamIds":["1"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":["a","b"]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[42]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[null]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"Authenticate","arguments":[{"user":"admin"}]}""", nameof(PreAuthenticationFrame.MalformedAuthenticate) },
        { """{"type":1,"target":"authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"Echo","arguments":["hi"]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":1,"target":"NoSuchMethod","arguments":[]}""", nameof(PreAuthenticationFrame.Invocation) },
        { """{"type":2,"invocationId":"1","item":"x"}""", nameof(PreAuthenticationFrame.StreamItem) },
        { """{"type":3,"invocationId":"1","result":1}""", nameof(PreAuthenticationFrame.Completion) },
        { """{"type":4,"invocationId":"1","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.StreamInvocation) },
        { """{"type":5,"invocationId":"1"}""", nameof(PreAuthenticationFrame.CancelInvocation) },
        { """{"type":8,"sequenceId":1}""", nameof(PreAuthenticationFrame.Other) },
        { """{"type":99}""", nameof(PreAuthenticationFrame.Other) },
        { """{"type":"1","target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Other) },
        { """{"target":"Authenticate","arguments":["abc"]}""", nameof(PreAuthenticationFrame.Malformed) },
        { """[1,2,3]""", nameof(PreAuthenticationFrame.Malformed) },
        { """not json""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Authenticate","arguments":["abc"]""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1}{"type":6}""", nameof(PreAuthenticationFrame.Malformed) },
        { """{"type":1,"target":"Echo","arguments":[[[[[[[["deep"]]]]]]]]}""", nameof(PreAuthenticationFrame.Malformed) },
        { string.Empty, nameof(PreAuthenticationFrame.Malformed) },
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
