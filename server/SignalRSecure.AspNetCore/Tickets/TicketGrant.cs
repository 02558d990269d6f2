namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>What a ticket grants, and what it is bound to.</summary>
/// <param name="User">The user.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
/// <param name="ClientIp">The IP to bind to, or null.</param>
/// <param name="Origin">The browser origin to bind to, or null.</param>
/// <param name="SessionKey">The login session asking, or null.</param>
/// <param name="UserAgent">The <c>User-Agent</c> to bind to (empty for a request without one), or null.</param>
internal readonly record struct TicketGrant(
    string User, IReadOnlyList<string> Groups, string? ClientIp, string? Origin, string? SessionKey, string? UserAgent = null);
