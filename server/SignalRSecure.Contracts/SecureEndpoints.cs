namespace SignalRSecure.Contracts;

/// <summary>
/// The paths and headers of the gate's auth endpoints (<c>MapSignalRSecureAuth</c>). The app chooses the paths of its
/// hubs itself (<c>MapSecureHub</c>).
/// </summary>
public static class SecureEndpoints
{
    /// <summary>Signs in with a user name and password and sets the session cookie.</summary>
    public const string Login = "/auth/login";

    /// <summary>Issues a ticket for the session in the cookie; requires <see cref="RequestHeader"/>.</summary>
    public const string Ticket = "/auth/ticket";

    /// <summary>Ends the session in the cookie; requires <see cref="RequestHeader"/>.</summary>
    public const string Logout = "/auth/logout";

    /// <summary>Issues a ticket for any user; requires the issuer key as a bearer token.</summary>
    public const string IssueTicket = "/auth/tickets";

    /// <summary>Revokes a user's tickets, sessions and connections; requires the issuer key. Format with the user name.</summary>
    public const string RevokeUserFormat = "/auth/users/{0}/revoke";

    /// <summary>Answers 200 when the server is ready.</summary>
    public const string Health = "/healthz";

    /// <summary>
    /// The header every cookie-authenticated request must carry. A cross-site page cannot add it without a CORS
    /// preflight, which the server grants only to allowed origins.
    /// </summary>
    public const string RequestHeader = "X-SignalRSecure";

    /// <summary>The value of <see cref="RequestHeader"/>.</summary>
    public const string RequestHeaderValue = "1";

    /// <summary>
    /// The error of a 503 from <see cref="Login"/> (<c>{"error":"server busy"}</c>, the same for every caller): every
    /// password verification thread is busy and their queue is full. Retryable after the response's <c>Retry-After</c>.
    /// </summary>
    public const string ServerBusy = "server busy";
}
