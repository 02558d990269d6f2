using Microsoft.Extensions.Options;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>Issues single-use tickets, and checks a redeemed one against the connection presenting it.</summary>
internal sealed class TicketService(ITicketStore store, IOptions<TicketOptions> options, TimeProvider time)
{
    private readonly TicketOptions _options = options.Value;

    public async ValueTask<TicketResponse> IssueAsync(TicketGrant grant, CancellationToken cancellationToken = default)
    {
        var ticket = SecretToken.Create();
        var now = time.GetUtcNow();
        var expiresAt = now + _options.Lifetime;
        await store.AddAsync(
            new StoredTicket(
                SecretToken.Hash(ticket),
                grant.User,
                grant.Groups,
                now,
                expiresAt,
                _options.BindToClientIp ? grant.ClientIp : null,
                grant.Origin,
                grant.SessionKey,
                _options.BindToUserAgent && grant.UserAgent is not null ? UserAgentHash.Of(grant.UserAgent) : null),
            cancellationToken);
        return new TicketResponse(ticket, expiresAt);
    }

    /// <summary>
    /// Checks a ticket taken out of the store against its expiry and its bindings to a connection from
    /// <paramref name="clientIp"/> and <paramref name="origin"/> whose <c>User-Agent</c> hashes to
    /// <paramref name="userAgentHash"/>; null when it holds.
    /// </summary>
    public TicketRejection? Check(StoredTicket stored, string? clientIp, string? origin, string userAgentHash)
    {
        if (time.GetUtcNow() >= stored.ExpiresAt)
        {
            return TicketRejection.Expired;
        }

        if (stored.ClientIp is not null && !string.Equals(stored.ClientIp, clientIp, StringComparison.Ordinal))
        {
            return TicketRejection.WrongIp;
        }

        if (stored.Origin is not null && !string.Equals(stored.Origin, origin, StringComparison.Ordinal))
        {
            return TicketRejection.WrongOrigin;
        }

        if (stored.UserAgentHash is not null && !string.Equals(stored.UserAgentHash, userAgentHash, StringComparison.Ordinal))
        {
            return TicketRejection.WrongUserAgent;
        }

        return null;
    }
}
