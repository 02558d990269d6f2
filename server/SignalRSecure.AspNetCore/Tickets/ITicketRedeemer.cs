using System.Net;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>
/// Redeems a presented ticket as one attempt of its address under the failed-authentication lockout: a locked-out
/// address is refused before its ticket is read, and a ticket that is missing, malformed or refused by the check counts
/// as a failure. The default (<see cref="TicketRedeemer"/>) begins an attempt on the lockout, takes the ticket out of
/// the <see cref="ITicketStore"/> and ends the attempt; a shared store may do the lockout and the read in one step.
/// </summary>
/// <remarks>Every call can throw when a shared store fails; nothing is then decided about the ticket.</remarks>
internal interface ITicketRedeemer
{
    /// <summary>Redeems the ticket whose hash is <paramref name="ticketHash"/> for a connection from <paramref name="address"/>.</summary>
    /// <param name="address">The address the attempt counts against.</param>
    /// <param name="ticketHash">The ticket's hash, or null for a malformed ticket (a failure, nothing to read).</param>
    /// <param name="check">Checks the ticket once taken (expiry, bindings); returns why it is refused, or null.</param>
    /// <param name="cancellationToken">Cancels the wait; a ticket already taken stays spent.</param>
    ValueTask<GuardedRedemption> RedeemAsync(
        IPAddress? address, string? ticketHash, Func<StoredTicket, TicketRejection?> check, CancellationToken cancellationToken = default);
}
