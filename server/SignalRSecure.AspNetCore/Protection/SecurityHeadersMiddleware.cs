using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// Adds the browser hardening headers to every response, and HSTS to every HTTPS response when TLS is configured.
/// The policy allows scripts, styles and connections (WebSockets included) to the server's own origin only.
/// </summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next, IOptions<TlsOptions> tls)
{
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private readonly string? _strictTransportSecurity = tls.Value.IsConfigured
        ? $"max-age={(long)tls.Value.HstsMaxAge.TotalSeconds}; includeSubDomains"
        : null;

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        if (_strictTransportSecurity is not null && context.Request.IsHttps)
        {
            headers.StrictTransportSecurity = _strictTransportSecurity;
        }

        return next(context);
    }
}
