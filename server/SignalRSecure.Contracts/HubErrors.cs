namespace SignalRSecure.Contracts;

/// <summary>
/// The exact error texts a hub invocation fails with. They never say more than this: a failed
/// <see cref="ISecureHub.Authenticate"/> does not say which check failed.
/// </summary>
/// <remarks>
/// SignalR puts a hub error on the wire as <c>An unexpected error occurred invoking 'Method' on the server. HubException: text</c>;
/// <see cref="TryParse"/> extracts the text.
/// </remarks>
public static class HubErrors
{
    /// <summary>The ticket was missing, malformed, unknown, used, expired or bound to another IP, origin or user.</summary>
    public const string AuthenticationFailed = "authentication failed";

    /// <summary>A method other than <see cref="ISecureHub.Authenticate"/> was invoked before authentication.</summary>
    public const string AuthenticationRequired = "authentication required";

    /// <summary><see cref="ISecureHub.Authenticate"/> was invoked on an authenticated connection.</summary>
    public const string AlreadyAuthenticated = "already authenticated";

    /// <summary>The user may not join that group.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>The caller has not joined that group.</summary>
    public const string NotAMember = "not a member";

    /// <summary>The group name is not 1 to 64 of <c>A-Z a-z 0-9 _ . -</c> (the whole string: no line terminator either).</summary>
    public const string InvalidGroup = "invalid group";

    /// <summary>The text is longer than the configured maximum.</summary>
    public const string MessageTooLong = "message too long";

    /// <summary>The connection invoked faster than its rate limit allows.</summary>
    public const string RateLimited = "rate limited";

    /// <summary>The connection has joined as many groups as it may.</summary>
    public const string TooManyGroups = "too many groups";

    /// <summary>
    /// <see cref="ISecureHub.Authenticate"/> was refused because the user already has as many connections as allowed;
    /// the connection closes.
    /// </summary>
    public const string TooManyConnections = "too many connections";

    /// <summary>The text is missing (null or empty).</summary>
    public const string InvalidMessage = "invalid message";

    /// <summary>
    /// A store the hub method depends on (a shared group roster, a connection registry) failed or timed out. Nothing
    /// was changed that the caller can see; it may call again after a back-off. <see cref="ISecureHub.Authenticate"/>
    /// answers it too, and then closes the connection with <see cref="CloseReasons.Unavailable"/>.
    /// </summary>
    public const string Unavailable = "temporarily unavailable";

    /// <summary>Every error text above.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        AuthenticationFailed, AuthenticationRequired, AlreadyAuthenticated, Forbidden, NotAMember,
        InvalidGroup, MessageTooLong, RateLimited, TooManyGroups, InvalidMessage, TooManyConnections, Unavailable,
    ];

    private const string HubExceptionMarker = "HubException: ";

    /// <summary>
    /// Extracts the error text from a SignalR invocation error (<see cref="HubExceptionMarker"/> followed by one of
    /// <see cref="All"/>), or accepts the bare text.
    /// </summary>
    /// <param name="message">The error text the client library received.</param>
    /// <param name="error">The error from <see cref="All"/>, when this returns true.</param>
    /// <returns>Whether <paramref name="message"/> carries one of the errors in <see cref="All"/>.</returns>
    public static bool TryParse(string? message, out string error)
    {
        error = string.Empty;
        if (message is null)
        {
            return false;
        }

        var marker = message.LastIndexOf(HubExceptionMarker, StringComparison.Ordinal);
        var candidate = marker < 0 ? message : message[(marker + HubExceptionMarker.Length)..];
        foreach (var known in All)
        {
            if (string.Equals(candidate, known, StringComparison.Ordinal))
            {
                error = known;
                return true;
            }
        }

        return false;
    }
}
