using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// Redeems presented tickets the way the gate does: the shape check and hash of <see cref="SecretToken"/>, the default
/// <see cref="TicketRedeemer"/> over the store, and <see cref="TicketService.Check"/> for the connection's bindings. Its
/// failure limiter never locks out (these tests are about the tickets, not the lockout).
/// </summary>
internal sealed class GateRedemption(TicketService tickets, ITicketStore store, TimeProvider time) : IDisposable
{
    private readonly AuthenticationFailureLimiter _failures = new(
        Options.Create(new ProtectionOptions { AuthenticationFailuresPerIp = int.MaxValue }), time);

    /// <summary>Redeems <paramref name="ticket"/> for a connection from <paramref name="clientIp"/> and <paramref name="origin"/>.</summary>
    public async Task<GuardedRedemption> RedeemAsync(string? ticket, string clientIp, string? origin, string userAgentHash) =>
        await new TicketRedeemer(_failures, store).RedeemAsync(
            IPAddress.Parse(clientIp), SecretToken.HashIfWellFormed(ticket), stored => tickets.Check(stored, clientIp, origin, userAgentHash));

    public void Dispose() => _failures.Dispose();
}
