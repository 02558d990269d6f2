using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Diagnostics;
using SignalRSecure.Server.Protection;
using SignalRSecure.Server.Tickets;

namespace SignalRSecure.Server.Gate;

/// <summary>
/// Opens a <see cref="ConnectionGate"/> for each hub connection and decides <c>Authenticate</c> and
/// <c>Reauthenticate</c>; the one place that logs and counts what happens at the gate.
/// </summary>
internal sealed class GateKeeper(
    IOptions<SecureHubOptions> options,
    TimeProvider time,
    TicketService tickets,
    AuthenticationFailureLimiter failures,
    IUserConnectionRegistry registry,
    SecureHubMetrics metrics,
    IOptions<ProtectionOptions> protection,
    ILogger<GateKeeper> logger)
{
    public SecureHubOptions Options { get; } = options.Value;

    public TimeProvider Time => time;

    public ConnectionGate Open(ConnectionContext connection, Admission admission, IPAddress? remoteIp, string? origin, string? userAgent = null)
    {
        var gate = new ConnectionGate(connection, this, admission, remoteIp, origin, userAgent);
        metrics.ConnectionOpened();
        GateLog.ConnectionOpened(logger, gate.ConnectionId, remoteIp);
        return gate;
    }

    public async Task<AuthenticateResult> AuthenticateAsync(ConnectionGate gate, string? ticket)
    {
        if (gate.IsAuthenticated)
        {
            throw new HubException(HubErrors.AlreadyAuthenticated);
        }

        gate.AuthenticateStarted();
        var redemption = await RedeemOrCloseAsync(gate, ticket);
        var identity = new AuthenticatedUser(redemption.User, redemption.Groups);
        var expiresAt = time.GetUtcNow() + Options.SessionLifetime;
        if (!gate.CompleteAuthentication(identity, expiresAt))
        {
            // Closed (deadline, protocol violation) while the ticket was being redeemed.
            throw new HubException(HubErrors.AuthenticationFailed);
        }

        registry.Add(gate);
        metrics.ConnectionAuthenticated();
        GateLog.Authenticated(logger, gate.ConnectionId, gate.RemoteIp, identity.Name);
        return new AuthenticateResult(identity.Name, identity.Groups, expiresAt);
    }

    public async Task<ReauthenticateResult> ReauthenticateAsync(ConnectionGate gate, string? ticket)
    {
        var redemption = await RedeemOrCloseAsync(gate, ticket);
        if (!string.Equals(redemption.User, gate.User, StringComparison.Ordinal))
        {
            throw Refuse(gate, TicketRejection.WrongUser);
        }

        var expiresAt = time.GetUtcNow() + Options.SessionLifetime;
        gate.ExtendSession(new AuthenticatedUser(redemption.User, redemption.Groups), expiresAt);
        GateLog.Reauthenticated(logger, gate.ConnectionId, gate.User, expiresAt);
        return new ReauthenticateResult(expiresAt);
    }

    public void OnRateLimited(ConnectionGate gate)
    {
        metrics.RateLimited("invocation");
        GateLog.InvocationRateLimited(logger, gate.ConnectionId, gate.User, gate.RemoteIp);
    }

    public void OnPreAuthenticationViolation(ConnectionGate gate, string violation, string closeReason)
    {
        GateLog.PreAuthenticationViolation(logger, gate.ConnectionId, gate.RemoteIp, violation);
        if (closeReason == CloseReasons.AuthenticationFailed)
        {
            CountFailure(gate, TicketRejection.Malformed);
        }
    }

    public void OnDeadline(ConnectionGate gate, string reason)
    {
        if (reason == CloseReasons.AuthenticationTimeout)
        {
            metrics.AuthenticationTimedOut();
            GateLog.AuthenticationTimedOut(logger, gate.ConnectionId, gate.RemoteIp);
        }
    }

    public void OnConnectionClosed(ConnectionGate gate)
    {
        if (gate.Identity is null)
        {
            metrics.PendingConnectionClosed();
        }
        else
        {
            registry.Remove(gate);
            metrics.AuthenticatedConnectionClosed();
        }

        GateLog.ConnectionClosed(logger, gate.ConnectionId, gate.RemoteIp, gate.CloseReason ?? "client left");
    }

    private async Task<StoredTicket> RedeemOrCloseAsync(ConnectionGate gate, string? ticket)
    {
        TicketRedemption redemption;
        try
        {
            redemption = await tickets.RedeemAsync(ticket, gate.ClientIp, gate.Origin, gate.UserAgentHash, gate.ConnectionAborted);
        }
        catch (Exception) when (!gate.ConnectionAborted.IsCancellationRequested)
        {
            // A failing shared store must not leave the connection half-authenticated, nor leak the store's error.
            throw Refuse(gate, TicketRejection.Unknown);
        }

        return redemption.Ticket ?? throw Refuse(gate, redemption.Rejection);
    }

    private HubException Refuse(ConnectionGate gate, TicketRejection rejection)
    {
        CountFailure(gate, rejection);
        gate.CloseAfterReply(CloseReasons.AuthenticationFailed);
        return new HubException(HubErrors.AuthenticationFailed);
    }

    private void CountFailure(ConnectionGate gate, TicketRejection rejection)
    {
        var reason = rejection.ToString();
        metrics.AuthenticationFailed(reason);
        GateLog.AuthenticationFailed(logger, gate.ConnectionId, gate.RemoteIp, reason);
        if (failures.RecordFailure(gate.RemoteIp))
        {
            GateLog.AddressLockedOut(logger, gate.RemoteIp, protection.Value.AuthenticationLockout);
        }
    }
}
