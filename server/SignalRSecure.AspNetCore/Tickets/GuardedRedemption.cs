namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>What <see cref="ITicketRedeemer.RedeemAsync"/> decided.</summary>
/// <param name="Ticket">The ticket, taken out of the store and checked; null when refused.</param>
/// <param name="Rejection">Why the ticket was refused, when it was read (or malformed) and refused.</param>
/// <param name="AddressLockedOut">The address was locked out: the ticket was not read, and nothing was counted.</param>
/// <param name="LockedOut">This attempt's failure locked the address out.</param>
/// <param name="LockoutFailure">
/// The shared lockout failed to count the outcome after the ticket was decided (the decision stands; the attempt's
/// place in flight lapses by itself).
/// </param>
internal sealed record GuardedRedemption(
    StoredTicket? Ticket, TicketRejection? Rejection, bool AddressLockedOut, bool LockedOut, Exception? LockoutFailure = null)
{
    /// <summary>Refused unread: the address is locked out.</summary>
    public static GuardedRedemption Locked { get; } = new(null, null, AddressLockedOut: true, LockedOut: false);
}
