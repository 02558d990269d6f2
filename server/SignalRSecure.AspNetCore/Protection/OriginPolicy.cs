using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>Decides whether a request's <c>Origin</c> may use the hub and the auth endpoints.</summary>
internal sealed class OriginPolicy
{
    private readonly HashSet<string> _allowed;

    public OriginPolicy(IOptions<ProtectionOptions> options)
    {
        _allowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var origin in options.Value.AllowedOrigins)
        {
            if (TryNormalize(origin, out var normalized))
            {
                _allowed.Add(normalized);
            }
        }
    }

    /// <summary>
    /// True for a request without <c>Origin</c> (non-browser clients), from the server's own origin, or from an
    /// allowed one. False for anything else, including <c>Origin: null</c> and repeated headers.
    /// </summary>
    public bool IsAllowed(HttpRequest request)
    {
        var values = request.Headers.Origin;
        if (values.Count == 0)
        {
            return true;
        }

        if (values.Count != 1 || !TryNormalize(values[0], out var origin))
        {
            return false;
        }

        return _allowed.Contains(origin)
            || (TryNormalize($"{request.Scheme}://{request.Host.Value}", out var own) && string.Equals(origin, own, StringComparison.Ordinal));
    }

    /// <summary>The request's normalized <c>Origin</c>, or null when it has none (or none that parses).</summary>
    public static string? RequestOrigin(HttpRequest request) =>
        request.Headers.Origin is { Count: 1 } values && TryNormalize(values[0], out var origin) ? origin : null;

    /// <summary>
    /// Normalizes <c>scheme://host[:port]</c> to lower case without a default port; refuses anything else, including
    /// any control, whitespace or invisible formatting character anywhere in the value.
    /// </summary>
    public static bool TryNormalize(string? value, out string normalized)
    {
        // Stryker disable once String: equivalent, every caller reads the normalized origin only when TryNormalize returns true
        normalized = string.Empty;

        // Uri.TryCreate trims surrounding whitespace and control characters (so "https://a.example\n" parsed as
        // https://a.example), and takes U+2028 inside a host, which IdnHost turns into punycode (with invariant
        // globalization) or throws on (with ICU): none of them may reach it.
        if (string.IsNullOrEmpty(value)
            || HasInvisibleCharacter(value)
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.UserInfo.Length != 0
            || uri.AbsolutePath != "/"
            || uri.Query.Length != 0
            || uri.Fragment.Length != 0
            || value.EndsWith('/'))
        {
            return false;
        }

        string host;
        try
        {
            host = uri.IdnHost;
        }
        catch (UriFormatException)
        {
            // With ICU, a host IDNA refuses (an unassigned code point, say) is no origin a browser could send.
            return false;
        }

        normalized = uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : $"{uri.Scheme}://{host}:{uri.Port}";
        normalized = normalized.ToLowerInvariant();
        return true;
    }

    private static bool HasInvisibleCharacter(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                return true;
            }
        }

        return false;
    }
}
