namespace SignalRSecure.Contracts;

/// <summary>
/// Why the server closed a hub connection. The reason travels as the error text of the SignalR close message
/// (<c>{"type":7,"error":"reason","allowReconnect":false}</c>, <c>allowReconnect</c> true for the retryable ones), the
/// only close message the connection receives. A client must not reconnect after a terminal reason; after a retryable one
/// it may reconnect with a fresh ticket.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>reason</term><description>terminal?</description></listheader>
/// <item><term><see cref="AuthenticationFailed"/></term><description>terminal: the ticket was refused</description></item>
/// <item><term><see cref="AuthenticationRequired"/></term><description>terminal: a message other than Authenticate came first</description></item>
/// <item><term><see cref="AuthenticationTimeout"/></term><description>terminal: no successful Authenticate before the deadline</description></item>
/// <item><term><see cref="SessionExpired"/></term><description>retryable: a fresh ticket starts a new session</description></item>
/// <item><term><see cref="LoggedOut"/></term><description>terminal: the user signed out</description></item>
/// <item><term><see cref="Revoked"/></term><description>terminal: the issuer revoked the user</description></item>
/// <item><term><see cref="RateLimited"/></term><description>retryable: after a back-off</description></item>
/// <item><term><see cref="MessageTooLarge"/></term><description>terminal: the client sent a message over the size limit</description></item>
/// <item><term><see cref="TooManyConnections"/></term><description>terminal: the user has as many connections as allowed; retrying would only churn tickets until the user closes one</description></item>
/// <item><term><see cref="Unavailable"/></term><description>retryable: a store the server shares with other nodes failed; back off and come back with a fresh ticket</description></item>
/// </list>
/// </remarks>
public static class CloseReasons
{
    /// <summary>The ticket passed to Authenticate or Reauthenticate was refused.</summary>
    public const string AuthenticationFailed = "authentication failed";

    /// <summary>The connection sent something other than Authenticate before authenticating.</summary>
    public const string AuthenticationRequired = "authentication required";

    /// <summary>The connection did not authenticate before the authentication deadline.</summary>
    public const string AuthenticationTimeout = "authentication timeout";

    /// <summary>The session ended and was not extended by Reauthenticate.</summary>
    public const string SessionExpired = "session expired";

    /// <summary>The user's session was ended by <c>POST /auth/logout</c>.</summary>
    public const string LoggedOut = "logged out";

    /// <summary>The user was revoked by the ticket issuer.</summary>
    public const string Revoked = "revoked";

    /// <summary>The connection kept invoking, or sent messages, over its rate limit.</summary>
    public const string RateLimited = "rate limited";

    /// <summary>The authenticated connection sent a message larger than the server accepts.</summary>
    public const string MessageTooLarge = "message too large";

    /// <summary>The user already had as many authenticated connections as allowed when this one authenticated.</summary>
    public const string TooManyConnections = "too many connections";

    /// <summary>
    /// A store the server depends on (such as a connection registry shared by several nodes) failed while the
    /// connection authenticated. The ticket is used up: the client backs off and reconnects with a fresh one.
    /// </summary>
    public const string Unavailable = "temporarily unavailable";

    /// <summary>Every close reason, with whether it is terminal.</summary>
    public static IReadOnlyDictionary<string, bool> IsTerminalByReason { get; } = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        [AuthenticationFailed] = true,
        [AuthenticationRequired] = true,
        [AuthenticationTimeout] = true,
        [SessionExpired] = false,
        [LoggedOut] = true,
        [Revoked] = true,
        [RateLimited] = false,
        [MessageTooLarge] = true,
        [TooManyConnections] = true,
        [Unavailable] = false,
    };

    /// <summary>Whether a client must stop reconnecting after <paramref name="reason"/>. Unknown reasons are not terminal.</summary>
    /// <param name="reason">A close reason.</param>
    /// <returns>True for a terminal reason.</returns>
    public static bool IsTerminal(string? reason) =>
        reason is not null && IsTerminalByReason.TryGetValue(reason, out var terminal) && terminal;

    /// <summary>
    /// Extracts a known close reason from the text a SignalR client reports when the server closes the connection
    /// (the JS client prefixes it with <c>Server returned an error on close: </c>).
    /// </summary>
    /// <param name="message">The text of the close error.</param>
    /// <param name="reason">The reason, when this returns true.</param>
    /// <returns>Whether <paramref name="message"/> carries a known close reason.</returns>
    public static bool TryParse(string? message, out string reason)
    {
        reason = string.Empty;
        if (message is null)
        {
            return false;
        }

        foreach (var known in IsTerminalByReason.Keys)
        {
            if (message.EndsWith(known, StringComparison.Ordinal))
            {
                reason = known;
                return true;
            }
        }

        return false;
    }
}
