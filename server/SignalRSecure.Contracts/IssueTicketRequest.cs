namespace SignalRSecure.Contracts;

/// <summary>The body of <c>POST /auth/tickets</c>, used by a separate auth server holding the issuer key.</summary>
/// <param name="User">The user to issue the ticket to.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
/// <param name="ClientIp">Optional: the end user's IP address, to bind the ticket to it.</param>
/// <param name="Origin">Optional: the browser origin the ticket will be redeemed from, to bind the ticket to it.</param>
/// <param name="UserAgent">
/// Optional: the exact <c>User-Agent</c> the end user's client will send when it opens the hub (empty for none), to bind
/// the ticket to it.
/// </param>
public sealed record IssueTicketRequest(
    string? User, IReadOnlyList<string>? Groups, string? ClientIp = null, string? Origin = null, string? UserAgent = null);
