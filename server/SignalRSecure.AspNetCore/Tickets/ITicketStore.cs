namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>
/// Where issued tickets wait to be redeemed. The default keeps them in memory; a shared implementation (Redis, say)
/// lets several server nodes redeem each other's tickets. Register yours before calling <c>AddSignalRSecure</c>.
/// </summary>
public interface ITicketStore
{
    /// <summary>Stores a newly issued ticket.</summary>
    ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes and returns the ticket with <paramref name="hash"/> in one atomic step, so that of any number of
    /// concurrent callers exactly one gets it. Returns null when there is none (unknown, redeemed or revoked).
    /// </summary>
    ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default);

    /// <summary>Removes every unredeemed ticket of <paramref name="user"/>.</summary>
    ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default);

    /// <summary>Removes every unredeemed ticket issued to the login session <paramref name="sessionKey"/>.</summary>
    ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default);
}
