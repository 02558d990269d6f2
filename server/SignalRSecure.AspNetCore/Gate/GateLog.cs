using System.Net;
using Microsoft.Extensions.Logging;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>The gate's log events. None of them carries a ticket, a session id or a key.</summary>
/// <remarks>
/// Events that every connection produces (opened, closed, timed out before authenticating) are Debug: at
/// Information they cost more CPU per connection than the rest of the gate together, and a flood of connections
/// would become a flood of log lines. The metrics on meter <c>SignalRSecure</c> count them instead. What an audit
/// needs stays at Information or above: who authenticated from where, failures, lockouts, refusals.
/// </remarks>
internal static partial class GateLog
{
    [LoggerMessage(EventId = 1, EventName = "ConnectionOpened", Level = LogLevel.Debug,
        Message = "Hub connection {ConnectionId} opened from {RemoteIp}")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId, IPAddress? remoteIp);

    [LoggerMessage(EventId = 2, EventName = "Authenticated", Level = LogLevel.Information,
        Message = "Hub connection {ConnectionId} from {RemoteIp} authenticated as {User}")]
    public static partial void Authenticated(ILogger logger, string connectionId, IPAddress? remoteIp, string user);

    [LoggerMessage(EventId = 3, EventName = "AuthenticationFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp} failed to authenticate: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, string connectionId, IPAddress? remoteIp, string reason);

    [LoggerMessage(EventId = 4, EventName = "AuthenticationTimedOut", Level = LogLevel.Debug,
        Message = "Hub connection {ConnectionId} from {RemoteIp} did not authenticate in time")]
    public static partial void AuthenticationTimedOut(ILogger logger, string connectionId, IPAddress? remoteIp);

    [LoggerMessage(EventId = 5, EventName = "PreAuthenticationViolation", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp} sent {Violation} before authenticating")]
    public static partial void PreAuthenticationViolation(ILogger logger, string connectionId, IPAddress? remoteIp, string violation);

    [LoggerMessage(EventId = 6, EventName = "InvocationRateLimited", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} of {User} from {RemoteIp} invoked over its rate limit")]
    public static partial void InvocationRateLimited(ILogger logger, string connectionId, string user, IPAddress? remoteIp);

    [LoggerMessage(EventId = 7, EventName = "ConnectionClosed", Level = LogLevel.Debug,
        Message = "Hub connection {ConnectionId} from {RemoteIp} closed: {CloseReason}")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId, IPAddress? remoteIp, string closeReason);

    [LoggerMessage(EventId = 8, EventName = "AddressLockedOut", Level = LogLevel.Warning,
        Message = "{RemoteIp} is locked out of new hub connections for {Lockout} after repeated failed authentications")]
    public static partial void AddressLockedOut(ILogger logger, IPAddress? remoteIp, TimeSpan lockout);

    [LoggerMessage(EventId = 9, EventName = "MessagesRefused", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} of {User} from {RemoteIp} closed: {CloseReason}")]
    public static partial void MessagesRefused(ILogger logger, string connectionId, string user, IPAddress? remoteIp, string closeReason);

    [LoggerMessage(EventId = 11, EventName = "Reauthenticated", Level = LogLevel.Information,
        Message = "Hub connection {ConnectionId} of {User} extended its session to {ExpiresAt}")]
    public static partial void Reauthenticated(ILogger logger, string connectionId, string user, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 12, EventName = "HubMethodFailed", Level = LogLevel.Error,
        Message = "Hub method {HubMethod} failed on connection {ConnectionId}")]
    public static partial void HubMethodFailed(ILogger logger, string hubMethod, string connectionId, Exception exception);

    [LoggerMessage(EventId = 13, EventName = "UserInvocationRateLimited", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} of {User} from {RemoteIp} invoked over its user's rate limit")]
    public static partial void UserInvocationRateLimited(ILogger logger, string connectionId, string user, IPAddress? remoteIp);

    [LoggerMessage(EventId = 14, EventName = "UserConnectionCapRefused", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp} refused: {User} already has {MaxConnectionsPerUser} connections")]
    public static partial void UserConnectionCapRefused(ILogger logger, string connectionId, IPAddress? remoteIp, string user, int maxConnectionsPerUser);

    [LoggerMessage(EventId = 15, EventName = "GroupsChanged", Level = LogLevel.Information,
        Message = "Hub connection {ConnectionId} of {User} took the groups of a newer ticket")]
    public static partial void GroupsChanged(ILogger logger, string connectionId, string user);

    [LoggerMessage(EventId = 16, EventName = "GroupRightsChangeFailed", Level = LogLevel.Error,
        Message = "Hub connection {ConnectionId} of {User} is closed: its memberships could not follow its new groups")]
    public static partial void GroupRightsChangeFailed(ILogger logger, string connectionId, string user, Exception exception);

    [LoggerMessage(EventId = 17, EventName = "GroupRightsNotShared", Level = LogLevel.Error,
        Message = "The new groups of {User} from hub connection {ConnectionId} did not reach the user's other connections")]
    public static partial void GroupRightsNotShared(ILogger logger, string connectionId, string user, Exception exception);

    [LoggerMessage(EventId = 18, EventName = "RegistryAddFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp} of {User} is closed as unavailable: the connection registry failed")]
    public static partial void RegistryAddFailed(ILogger logger, string connectionId, IPAddress? remoteIp, string user, Exception exception);

    [LoggerMessage(EventId = 19, EventName = "RegistryRemoveFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} of {User} closed, but the connection registry failed to forget it")]
    public static partial void RegistryRemoveFailed(ILogger logger, string connectionId, string user, Exception exception);

    [LoggerMessage(EventId = 20, EventName = "LifetimeManagerJoinFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp} of {User} is closed as unavailable: the hub's lifetime manager failed to take it")]
    public static partial void LifetimeManagerJoinFailed(ILogger logger, string connectionId, IPAddress? remoteIp, string user, Exception exception);

    [LoggerMessage(EventId = 21, EventName = "TicketStoreFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp} is closed as unavailable: the ticket store or the lockout failed before the ticket was decided")]
    public static partial void TicketStoreFailed(ILogger logger, string connectionId, IPAddress? remoteIp, Exception exception);

    [LoggerMessage(EventId = 22, EventName = "LockoutStoreFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} from {RemoteIp}: the authentication failure limiter failed")]
    public static partial void LockoutStoreFailed(ILogger logger, string connectionId, IPAddress? remoteIp, Exception exception);

    [LoggerMessage(EventId = 23, EventName = "UserLimitsFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} of {User}: the shared per-user limits failed")]
    public static partial void UserLimitsFailed(ILogger logger, string connectionId, string user, Exception exception);
}
