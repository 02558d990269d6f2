using System.Net;

namespace SignalRSecure.Client;

/// <summary>Why a request to the server's <c>/auth/*</c> endpoints failed.</summary>
public enum AuthRequestFailure
{
    /// <summary>401 from <c>/auth/login</c>: wrong user name or password.</summary>
    InvalidCredentials,

    /// <summary>401 from <c>/auth/ticket</c>: the session cookie is missing, expired or unknown to the server (a restart).</summary>
    NotSignedIn,

    /// <summary>403: the request's <c>Origin</c> is not allowed, or the <c>X-SignalRSecure</c> header is missing.</summary>
    Forbidden,

    /// <summary>429: too many attempts; see <see cref="AuthRequestException.RetryAfter"/>.</summary>
    RateLimited,

    /// <summary>Any other status, such as a 5xx from a server in trouble.</summary>
    Unexpected,

    /// <summary>
    /// 503 <c>server busy</c> from <c>/auth/login</c>: every password verification on the server is taken; see
    /// <see cref="AuthRequestException.RetryAfter"/>.
    /// </summary>
    ServerBusy,
}

/// <summary>
/// The server refused a sign-in, ticket or sign-out request. The message names the endpoint and the status, never the
/// password or a ticket.
/// </summary>
public sealed class AuthRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The endpoint, such as <c>/auth/ticket</c>.</param>
    /// <param name="statusCode">The HTTP status the server answered with.</param>
    /// <param name="failure">What the status means for this endpoint.</param>
    /// <param name="retryAfter">The server's <c>Retry-After</c>, if it sent one.</param>
    public AuthRequestException(string path, HttpStatusCode statusCode, AuthRequestFailure failure, TimeSpan? retryAfter = null)
        : base(Describe(path, statusCode, failure, retryAfter))
    {
        StatusCode = statusCode;
        Failure = failure;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status the server answered with.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>What the status means for the endpoint.</summary>
    public AuthRequestFailure Failure { get; }

    /// <summary>How long the server asked to wait before trying again (429, 503), if it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Whether the same request may succeed later: rate limited, or a server error (5xx).</summary>
    public bool IsRetryable => Failure == AuthRequestFailure.RateLimited || (int)StatusCode >= 500;

    private static string Describe(string path, HttpStatusCode statusCode, AuthRequestFailure failure, TimeSpan? retryAfter)
    {
        var what = failure switch
        {
            AuthRequestFailure.InvalidCredentials => "invalid user name or password",
            AuthRequestFailure.NotSignedIn => "not signed in",
            AuthRequestFailure.Forbidden => "forbidden",
            AuthRequestFailure.RateLimited => retryAfter is { } wait ? $"rate limited, retry after {wait.TotalSeconds:0} s" : "rate limited",
            AuthRequestFailure.ServerBusy => retryAfter is { } wait ? $"server busy, retry after {wait.TotalSeconds:0} s" : "server busy",
            _ => "unexpected answer",
        };
        return $"POST {path} failed with {(int)statusCode}: {what}.";
    }
}
