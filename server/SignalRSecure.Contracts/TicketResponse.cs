namespace SignalRSecure.Contracts;

/// <summary>The answer of both ticket endpoints.</summary>
/// <param name="Ticket">The single-use ticket to pass to <see cref="ISecureHub.Authenticate"/>; never put it in a URL or a log.</param>
/// <param name="ExpiresAt">When the ticket stops being redeemable.</param>
public sealed record TicketResponse(string Ticket, DateTimeOffset ExpiresAt);
