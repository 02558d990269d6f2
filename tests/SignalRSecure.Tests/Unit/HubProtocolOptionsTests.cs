using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary><c>SignalRSecure:Hub:Protocols</c>: the names SignalR knows, each once, and nothing else.</summary>
public sealed class HubProtocolOptionsTests
{
    [Theory]
    [InlineData("json", new[] { "json" })]
    [InlineData("messagepack", new[] { "messagepack" })]
    [InlineData("json,messagepack", new[] { "json", "messagepack" })]
    [InlineData("messagepack, json", new[] { "messagepack", "json" })]
    [InlineData("MessagePack,JSON,json", new[] { "messagepack", "json" })]
    public void Validate_KnownProtocols_PassAndNameSignalRsProtocols(string value, string[] expected)
    {
        var options = new SecureHubOptions { Protocols = value };

        var result = new SecureHubOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(expected, options.ProtocolNames);
    }

    [Theory]
    [InlineData("")]
    [InlineData("xml")]
    [InlineData("json,")]
    [InlineData(",json")]
    [InlineData("json,,messagepack")]
    [InlineData("json;messagepack")]
    [InlineData("json\n")]
    [InlineData("json\r\n")]
    [InlineData("messagepack\r")]
    [InlineData("\tjson")]
    [InlineData("json\0")]
    [InlineData("json\u2028")]
    [InlineData("msgpack")]
    public void Validate_AnythingElse_FailsNamingTheKey(string value)
    {
        var result = new SecureHubOptionsValidator().Validate(null, new SecureHubOptions { Protocols = value });

        Assert.True(result.Failed);
        Assert.Contains("SignalRSecure:Hub:Protocols must list json, messagepack or both", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Protocols_Default_IsJsonOnly()
    {
        Assert.Equal(["json"], new SecureHubOptions().ProtocolNames);
    }
}
