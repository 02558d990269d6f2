using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.Tests.Unit;

public sealed class OriginPolicyTests
{
    private readonly OriginPolicy _policy = new(Options.Create(new ProtectionOptions { AllowedOrigins = ["https://app.example.com", "http://localhost:3000"] }));

    [Fact]
    public void IsAllowed_NoOrigin_Passes() => Assert.True(_policy.IsAllowed(Request(origin: null)));

    [Theory]
    [InlineData("http://chat.example.com")]
    [InlineData("HTTP://Chat.Example.com")]
    [InlineData("http://chat.example.com:80")]
    public void IsAllowed_SameOrigin_Passes(string origin) => Assert.True(_policy.IsAllowed(Request(origin)));

    [Theory]
    [InlineData("https://app.example.com")]
    [InlineData("https://app.example.com:443")]
    [InlineData("http://localhost:3000")]
    public void IsAllowed_ConfiguredOrigin_Passes(string origin) => Assert.True(_policy.IsAllowed(Request(origin)));

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("https://chat.example.com")]
    [InlineData("http://chat.example.com:8080")]
    [InlineData("http://localhost:3001")]
    [InlineData("null")]
    [InlineData("file://")]
    [InlineData("https://app.example.com/path")]
    [InlineData("https://app.example.com.evil.example")]
    [InlineData("https://user@app.example.com")]
    public void IsAllowed_ForeignOrOpaqueOrigin_IsRefused(string origin) => Assert.False(_policy.IsAllowed(Request(origin)));

    [Fact]
    public void IsAllowed_TwoOriginHeaders_IsRefused()
    {
        var request = Request("http://chat.example.com");
        request.Headers.Origin = new Microsoft.Extensions.Primitives.StringValues(["http://chat.example.com", "https://evil.example"]);

        Assert.False(_policy.IsAllowed(request));
    }

    [Theory]
    [InlineData("https://App.Example.com:443", "https://app.example.com")]
    [InlineData("http://localhost:3000", "http://localhost:3000")]
    public void TryNormalize_Origin_DropsDefaultPortAndCase(string value, string expected)
    {
        Assert.True(OriginPolicy.TryNormalize(value, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Fact]
    public void TryNormalize_HostThatIdnaRefuses_IsRefusedAndCannotBeConfigured()
    {
        // A lone surrogate passes Uri.TryCreate, but turning the host into its IDNA form throws.
        const string origin = "https://a\uD800b.example";

        var normalized = OriginPolicy.TryNormalize(origin, out _);
        var validation = new ProtectionOptionsValidator().Validate(null, new ProtectionOptions { AllowedOrigins = [origin] });

        Assert.False(normalized);
        Assert.True(validation.Failed);
        Assert.Contains("AllowedOrigins:0", validation.FailureMessage, StringComparison.Ordinal);
    }

    private static HttpRequest Request(string? origin)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("chat.example.com");
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        return context.Request;
    }
}
