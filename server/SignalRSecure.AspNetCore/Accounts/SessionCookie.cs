using Microsoft.AspNetCore.Http;
using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>The login session cookie: HttpOnly, SameSite=Strict, and under HTTPS Secure with the <c>__Host-</c> prefix.</summary>
internal static class SessionCookie
{
    public static string Name(HttpRequest request) => request.IsHttps ? "__Host-SignalRSecure" : "SignalRSecure";

    public static CookieOptions Options(HttpRequest request, DateTimeOffset? expiresAt) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = request.IsHttps,
        Path = "/",
        Expires = expiresAt,
        IsEssential = true,
    };

    /// <summary>The live session named by the request's cookie, or null.</summary>
    public static async ValueTask<LoginSession?> FindAsync(HttpContext context, ISessionStore sessions)
    {
        var sessionId = context.Request.Cookies[Name(context.Request)];
        return SecretToken.HashIfWellFormed(sessionId) is { } hash
            ? await sessions.GetAsync(hash, context.RequestAborted)
            : null;
    }
}
