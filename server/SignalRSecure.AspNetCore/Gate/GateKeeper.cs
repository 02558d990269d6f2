using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Opens a <see cref="ConnectionGate"/> for each hub connection and decides <c>Authenticate</c> and
/// <c>Reauthenticate</c>; the one place that logs and counts what happens at the gate.
/// </summary>
internal sealed class GateKeeper(
    IOptions<SecureHubOptions> options,
    TimeProvider time,
    TicketService tickets,
    ITicketRedeemer redeemer,
    IAuthenticationFailureLimiter failures,
    IUserConnectionRegistry registry,
    UserBudgets budgets,
    IEnumerable<IGroupRightsObserver> groupRightsObservers,
    SecureHubMetrics metrics,
    IOptions<ProtectionOptions> protection,
    ILogger<GateKeeper> logger)
{
    /// <summary>The reason metrics and logs give for an attempt refused, unread, because its address is locked out.</summary>
    public const string LockedOutReason = "LockedOut";

    /// <summary>The reason metrics give for an attempt that failed because the ticket store failed.</summary>
    public const string StoreFailedReason = "StoreFailed";

    private readonly IGroupRightsObserver[] _groupRightsObservers = [.. groupRightsObservers];
    private readonly SharedIdentities _identities = new();

    public SecureHubOptions Options { get; } = options.Value;

    public TimeProvider Time => time;

    /// <summary>The one timer of every connection's deadline.</summary>
    public GateDeadlines Deadlines { get; } = new(time, options.Value.DeadlinePrecision);

    /// <summary>The per-user limits the connections' budgets come from.</summary>
    public UserBudgets Budgets => budgets;

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
        var redemption = await RedeemOrCloseAsync(gate, ticket, expectedUser: null);
        var identity = _identities.Share(redemption.User, redemption.Groups);

        // After the redemption, so that only the ticket's own user is counted; the ticket is used up either way.
        UserBudget? budget;
        try
        {
            budget = await budgets.TryAcquireAsync(identity.Name, gate.ConnectionAborted);
        }
        catch (Exception ex) when (!gate.ConnectionAborted.IsCancellationRequested)
        {
            // A shared count that cannot be taken fails closed, like the ticket store: retryable, no lockout strike.
            GateLog.UserLimitsFailed(logger, gate.ConnectionId, identity.Name, ex);
            gate.CloseAfterReply(CloseReasons.Unavailable);
            throw new HubException(HubErrors.Unavailable);
        }

        if (budget is null)
        {
            metrics.RateLimited("user-connections");
            GateLog.UserConnectionCapRefused(logger, gate.ConnectionId, gate.RemoteIp, identity.Name, protection.Value.MaxConnectionsPerUser);
            gate.CloseAfterReply(CloseReasons.TooManyConnections);
            throw new HubException(HubErrors.TooManyConnections);
        }

        var expiresAt = time.GetUtcNow() + Options.SessionLifetime;
        if (!gate.CompleteAuthentication(identity, redemption.IssuedAt, budget, expiresAt))
        {
            // Closed (deadline, protocol violation) while the ticket was being redeemed.
            await ReleaseBudgetAsync(gate, budget);
            throw new HubException(HubErrors.AuthenticationFailed);
        }

        metrics.ConnectionAuthenticated();
        try
        {
            await registry.AddAsync(gate, gate.ConnectionAborted);
        }
        catch (Exception ex) when (!gate.ConnectionAborted.IsCancellationRequested)
        {
            // Without the registry entry, logout and revocation could not reach this connection: it must not stay
            // open. The ticket is used up; the client comes back with a fresh one. The store's error stays in the log.
            GateLog.RegistryAddFailed(logger, gate.ConnectionId, gate.RemoteIp, identity.Name, ex);
            gate.CloseAfterReply(CloseReasons.Unavailable);
            throw new HubException(HubErrors.Unavailable);
        }

        try
        {
            // Only now may the hub's lifetime manager (and a backplane behind it) deliver to the connection.
            await gate.JoinLifetimeManagerAsync();
        }
        catch (Exception ex) when (!gate.ConnectionAborted.IsCancellationRequested)
        {
            // A scale-out manager that cannot subscribe the connection could not deliver to it: same answer as above.
            GateLog.LifetimeManagerJoinFailed(logger, gate.ConnectionId, gate.RemoteIp, identity.Name, ex);
            gate.CloseAfterReply(CloseReasons.Unavailable);
            throw new HubException(HubErrors.Unavailable);
        }

        if (gate.IsDisposed)
        {
            // The connection ended while Authenticate was finishing, and its removal from the registry may have run first.
            await RemoveFromRegistryAsync(gate);
        }

        GateLog.Authenticated(logger, gate.ConnectionId, gate.RemoteIp, identity.Name);
        return new AuthenticateResult(identity.Name, identity.Groups, expiresAt);
    }

    public async Task<ReauthenticateResult> ReauthenticateAsync(ConnectionGate gate, string? ticket)
    {
        var redemption = await RedeemOrCloseAsync(gate, ticket, expectedUser: gate.User);
        var expiresAt = time.GetUtcNow() + Options.SessionLifetime;
        gate.ExtendSession(expiresAt);
        GateLog.Reauthenticated(logger, gate.ConnectionId, gate.User, expiresAt);

        // The newest ticket defines what the user may join, on every connection of the user. The change must reach
        // them all even if the caller leaves meanwhile, hence no cancellation.
        try
        {
            await registry.UpdateUserGroupsAsync(gate.User, redemption.Groups, redemption.IssuedAt, CancellationToken.None);
        }
        catch (Exception ex)
        {
            GateLog.GroupRightsNotShared(logger, gate.ConnectionId, gate.User, ex);
        }

        // Already done through the registry unless it failed, in which case at least this connection changes.
        await gate.UpdateGroupsAsync(redemption.Groups, redemption.IssuedAt, CancellationToken.None);
        return new ReauthenticateResult(expiresAt);
    }

    /// <summary>
    /// Tells the <see cref="IGroupRightsObserver"/>s that <paramref name="gate"/> may now join other groups. A
    /// connection whose memberships could not be brought in line is closed with <c>session expired</c>, so that no
    /// membership outlives the right to it; its client comes back with a fresh ticket.
    /// </summary>
    public async ValueTask OnGroupsChangedAsync(ConnectionGate gate)
    {
        GateLog.GroupsChanged(logger, gate.ConnectionId, gate.User);
        foreach (var observer in _groupRightsObservers)
        {
            try
            {
                await observer.OnGroupRightsChangedAsync(gate, CancellationToken.None);
            }
            catch (Exception ex)
            {
                GateLog.GroupRightsChangeFailed(logger, gate.ConnectionId, gate.User, ex);
                gate.Close(CloseReasons.SessionExpired);
            }
        }
    }

    public void OnRateLimited(ConnectionGate gate, bool userLimit)
    {
        if (userLimit)
        {
            metrics.RateLimited("user-invocation");
            GateLog.UserInvocationRateLimited(logger, gate.ConnectionId, gate.User, gate.RemoteIp);
        }
        else
        {
            metrics.RateLimited("invocation");
            GateLog.InvocationRateLimited(logger, gate.ConnectionId, gate.User, gate.RemoteIp);
        }
    }

    public void OnPreAuthenticationViolation(ConnectionGate gate, string violation, string closeReason)
    {
        metrics.ProtocolViolation(closeReason);
        GateLog.PreAuthenticationViolation(logger, gate.ConnectionId, gate.RemoteIp, violation);
        if (closeReason == CloseReasons.AuthenticationFailed)
        {
            // Runs synchronously with the in-memory limiter; a shared one reports when its count is in.
            _ = RecordMalformedAsync(gate);
        }
    }

    public void OnMessagesRefused(ConnectionGate gate, string closeReason)
    {
        if (closeReason == CloseReasons.RateLimited)
        {
            metrics.RateLimited("messages");
        }
        else
        {
            metrics.ProtocolViolation(closeReason);
        }

        GateLog.MessagesRefused(logger, gate.ConnectionId, gate.User, gate.RemoteIp, closeReason);
    }

    public void OnDeadline(ConnectionGate gate, string reason)
    {
        if (reason == CloseReasons.AuthenticationTimeout)
        {
            metrics.AuthenticationTimedOut();
            GateLog.AuthenticationTimedOut(logger, gate.ConnectionId, gate.RemoteIp);
        }
    }

    public async ValueTask OnConnectionClosedAsync(ConnectionGate gate)
    {
        if (gate.TakeUserBudget() is { } budget)
        {
            await ReleaseBudgetAsync(gate, budget);
        }

        if (gate.Identity is null)
        {
            metrics.PendingConnectionClosed();
        }
        else
        {
            metrics.AuthenticatedConnectionClosed();
            await RemoveFromRegistryAsync(gate);
        }

        GateLog.ConnectionClosed(logger, gate.ConnectionId, gate.RemoteIp, gate.CloseReason ?? "client left");
    }

    /// <summary>Gives back a connection's place in its user's limits; a shared store that fails is logged and makes it good itself.</summary>
    private async ValueTask ReleaseBudgetAsync(ConnectionGate gate, UserBudget budget)
    {
        try
        {
            await budgets.ReleaseAsync(budget, CancellationToken.None);
        }
        catch (Exception ex)
        {
            GateLog.UserLimitsFailed(logger, gate.ConnectionId, budget.User, ex);
        }
    }

    /// <summary>
    /// Forgets a connection that closed. A store that fails is logged and skipped: the connection is gone either way,
    /// and a close sent to it later finds nothing to close.
    /// </summary>
    private async ValueTask RemoveFromRegistryAsync(ConnectionGate gate)
    {
        try
        {
            await registry.RemoveAsync(gate, CancellationToken.None);
        }
        catch (Exception ex)
        {
            GateLog.RegistryRemoveFailed(logger, gate.ConnectionId, gate.User, ex);
        }
    }

    /// <summary>
    /// Redeems <paramref name="ticket"/> as one attempt of the address's failure limit, or closes the connection. A
    /// locked-out address is refused before the ticket is even read, so the ticket stays unused and the refusal
    /// does not count as another failure (the lockout ends when it was due to).
    /// </summary>
    private async Task<StoredTicket> RedeemOrCloseAsync(ConnectionGate gate, string? ticket, string? expectedUser)
    {
        var hash = SecretToken.HashIfWellFormed(ticket);
        GuardedRedemption redemption;
        try
        {
            redemption = await redeemer.RedeemAsync(gate.RemoteIp, hash, Check, gate.ConnectionAborted);
        }
        catch (Exception ex) when (!gate.ConnectionAborted.IsCancellationRequested)
        {
            // A failing shared store must not leave the connection half-authenticated, nor leak the store's error. The
            // ticket was not found used, so it is not the client's fault: no lockout strike, and a retryable close.
            metrics.AuthenticationFailed(StoreFailedReason);
            GateLog.TicketStoreFailed(logger, gate.ConnectionId, gate.RemoteIp, ex);
            gate.CloseAfterReply(CloseReasons.Unavailable);
            throw new HubException(HubErrors.Unavailable);
        }

        if (redemption.LockoutFailure is { } failure)
        {
            GateLog.LockoutStoreFailed(logger, gate.ConnectionId, gate.RemoteIp, failure);
        }

        return redemption switch
        {
            { AddressLockedOut: true } => throw Refuse(gate, LockedOutReason, lockedOut: false),
            { Rejection: { } rejection } => throw Refuse(gate, rejection.ToString(), redemption.LockedOut),
            _ => redemption.Ticket!,
        };

        TicketRejection? Check(StoredTicket stored) =>
            tickets.Check(stored, gate.ClientIp, gate.Origin, gate.UserAgentHash)
            ?? (expectedUser is not null && !string.Equals(stored.User, expectedUser, StringComparison.Ordinal) ? TicketRejection.WrongUser : null);
    }

    /// <summary>Counts a malformed Authenticate against the address, then reports it.</summary>
    private async Task RecordMalformedAsync(ConnectionGate gate)
    {
        bool lockedOut;
        try
        {
            lockedOut = await failures.RecordFailureAsync(gate.RemoteIp, CancellationToken.None);
        }
        catch (Exception ex)
        {
            GateLog.LockoutStoreFailed(logger, gate.ConnectionId, gate.RemoteIp, ex);
            lockedOut = false;
        }

        Report(gate, TicketRejection.Malformed.ToString(), lockedOut);
    }

    private HubException Refuse(ConnectionGate gate, string reason, bool lockedOut)
    {
        Report(gate, reason, lockedOut);
        gate.CloseAfterReply(CloseReasons.AuthenticationFailed);
        return new HubException(HubErrors.AuthenticationFailed);
    }

    private void Report(ConnectionGate gate, string reason, bool lockedOut)
    {
        metrics.AuthenticationFailed(reason);
        GateLog.AuthenticationFailed(logger, gate.ConnectionId, gate.RemoteIp, reason);
        if (lockedOut)
        {
            GateLog.AddressLockedOut(logger, gate.RemoteIp, protection.Value.AuthenticationLockout);
        }
    }
}
