namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>What the store keeps of an issued ticket: never the ticket itself, only its hash.</summary>
/// <param name="Hash">The base64url SHA-256 hash of the ticket.</param>
/// <param name="User">The user it was issued to.</param>
/// <param name="Groups">The groups, or group patterns, it allows joining.</param>
/// <param name="IssuedAt">When it was issued.</param>
/// <param name="ExpiresAt">When it stops being redeemable.</param>
/// <param name="ClientIp">The IP it must be redeemed from, or null when unbound.</param>
/// <param name="Origin">The browser origin it must be redeemed from, or null when it was issued to a non-browser client.</param>
/// <param name="SessionKey">The login session that asked for it, so that logging out revokes it; null for issuer tickets.</param>
/// <param name="UserAgentHash">
/// The hash of the <c>User-Agent</c> it must be redeemed with (see <c>TicketOptions.BindToUserAgent</c>), or null when unbound.
/// </param>
public sealed record StoredTicket(
    string Hash,
    string User,
    IReadOnlyList<string> Groups,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    string? ClientIp,
    string? Origin,
    string? SessionKey,
    string? UserAgentHash = null);
