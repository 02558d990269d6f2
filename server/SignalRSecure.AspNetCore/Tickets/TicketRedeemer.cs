using System.Net;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>
/// The default <see cref="ITicketRedeemer"/>: an attempt on the <see cref="IAuthenticationFailureLimiter"/> around a
/// read of the <see cref="ITicketStore"/>, so that the attempts in flight count against the threshold while their
/// tickets are read.
/// </summary>
internal sealed class TicketRedeemer(IAuthenticationFailureLimiter failures, ITicketStore store) : ITicketRedeemer
{
    public async ValueTask<GuardedRedemption> RedeemAsync(
        IPAddress? address, string? ticketHash, Func<StoredTicket, TicketRejection?> check, CancellationToken cancellationToken = default)
    {
        var attempt = await failures.TryBeginAttemptAsync(address, cancellationToken);
        if (attempt is null)
        {
            return GuardedRedemption.Locked;
        }

        StoredTicket? stored;
        try
        {
            stored = ticketHash is null ? null : await store.TryRedeemAsync(ticketHash, cancellationToken);
        }
        catch
        {
            // Nothing was decided (the store failed, or the connection went away): the attempt counts for nothing. The
            // caller reports the store's error; a failure to end the attempt lapses by itself in a shared lockout.
            await EndAsync(attempt, failed: false);
            throw;
        }

        var rejection = ticketHash is null ? TicketRejection.Malformed
            : stored is null ? TicketRejection.Unknown
            : check(stored);
        var (lockedOut, failure) = await EndAsync(attempt, failed: rejection is not null);
        return new(rejection is null ? stored : null, rejection, AddressLockedOut: false, lockedOut, failure);
    }

    /// <summary>Ends an attempt whatever the connection does meanwhile; a lockout that fails here is reported, not thrown.</summary>
    private async ValueTask<(bool LockedOut, Exception? Failure)> EndAsync(AuthenticationAttempt attempt, bool failed)
    {
        try
        {
            return (await failures.EndAttemptAsync(attempt, failed, CancellationToken.None), null);
        }
        catch (Exception ex)
        {
            return (false, ex);
        }
    }
}
