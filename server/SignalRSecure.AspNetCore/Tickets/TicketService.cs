using Microsoft.Extensions.Options;
using SignalRSecure.Contracts;

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

/// <summary>Why a ticket was refused; for logs and metrics only, never for the client.</summary>
internal enum TicketRejection
{
    Malformed,
    Unknown,
    Expired,
    WrongIp,
    WrongOrigin,
    WrongUserAgent,
    WrongUser,
}

/// <summary>The outcome of redeeming a ticket: the ticket, or why it was refused.</summary>
internal readonly record struct TicketRedemption(StoredTicket? Ticket, TicketRejection Rejection)
{
    public bool Succeeded => Ticket is not null;
}

/// <summary>Issues single-use tickets and redeems them.</summary>
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
    /// Redeems <paramref name="ticket"/> for a connection from <paramref name="clientIp"/> and <paramref name="origin"/>
    /// whose <c>User-Agent</c> hashes to <paramref name="userAgentHash"/> (<see cref="UserAgentHash.Of"/>).
    /// The ticket is consumed whether or not the checks after the lookup pass.
    /// </summary>
    public async ValueTask<TicketRedemption> RedeemAsync(
        string? ticket, string? clientIp, string? origin, string userAgentHash, CancellationToken cancellationToken = default)
    {
        if (!SecretToken.IsWellFormed(ticket))
        {
            return new(null, TicketRejection.Malformed);
        }

        var stored = await store.TryRedeemAsync(SecretToken.Hash(ticket!), cancellationToken);
        return stored is null ? new(null, TicketRejection.Unknown)
            : Check(stored, clientIp, origin, userAgentHash) is { } rejection ? new(null, rejection)
            : new(stored, default);
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
