using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.Tests.Unit;

/// <summary>The browser hardening headers on every response, and HSTS only on HTTPS responses of a TLS server.</summary>
public sealed class SecurityHeadersMiddlewareTests
{
    [Fact]
    public async Task InvokeAsync_AnyRequest_SetsTheHardeningHeadersAndRunsTheRest()
    {
        var context = HttpContexts.Request();
        var ran = false;
        var middleware = new SecurityHeadersMiddleware(_ => { ran = true; return Task.CompletedTask; }, Options.Create(new TlsOptions()));

        await middleware.InvokeAsync(context).WaitAsync(TimeSpan.FromSeconds(10));

        var headers = context.Response.Headers;
        Assert.True(ran);
        Assert.Equal(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            headers.ContentSecurityPolicy.ToString());
        Assert.Equal("nosniff", headers.XContentTypeOptions.ToString());
        Assert.Equal("DENY", headers.XFrameOptions.ToString());
        Assert.Equal("no-referrer", headers["Referrer-Policy"].ToString());
        Assert.Equal("same-origin", headers["Cross-Origin-Opener-Policy"].ToString());
        Assert.False(headers.ContainsKey("Strict-Transport-Security"));
    }

    [Fact]
    public async Task InvokeAsync_HttpsRequestWithTls_AddsHstsWithTheConfiguredMaxAge()
    {
        var context = HttpContexts.Request(https: true);
        var tls = new TlsOptions { CertificatePath = "/etc/cert.pem", HstsMaxAge = TimeSpan.FromDays(2) };
        var middleware = new SecurityHeadersMiddleware(_ => Task.CompletedTask, Options.Create(tls));

        await middleware.InvokeAsync(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("max-age=172800; includeSubDomains", context.Response.Headers.StrictTransportSecurity.ToString());
        Assert.Equal("DENY", context.Response.Headers.XFrameOptions.ToString());
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task InvokeAsync_PlainHttpOrNoTls_HasNoHsts(bool tlsConfigured, bool https)
    {
        var context = HttpContexts.Request(https: https);
        var tls = new TlsOptions { CertificatePath = tlsConfigured ? "/etc/cert.pem" : null };
        var middleware = new SecurityHeadersMiddleware(_ => Task.CompletedTask, Options.Create(tls));

        await middleware.InvokeAsync(context).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(context.Response.Headers.ContainsKey("Strict-Transport-Security"));
        Assert.Equal("nosniff", context.Response.Headers.XContentTypeOptions.ToString());
    }

    [Fact]
    public async Task InvokeAsync_TheRestFails_HeadersAreAlreadySet()
    {
        var context = HttpContexts.Request();
        var middleware = new SecurityHeadersMiddleware(_ => Task.FromException(new InvalidOperationException("boom")), Options.Create(new TlsOptions()));

        await Assert.ThrowsAsync<InvalidOperationException>(() => middleware.InvokeAsync(context).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal("DENY", context.Response.Headers.XFrameOptions.ToString());
        Assert.Equal(HttpMethods.Get, context.Request.Method);
    }
}
