using System.Net;
using Microsoft.Extensions.Logging;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>Log events of the HTTP-level protections.</summary>
internal static partial class ProtectionLog
{
    [LoggerMessage(EventId = 101, EventName = "OriginRefused", Level = LogLevel.Warning,
        Message = "Request to {Path} from {RemoteIp} refused: origin {Origin} is not allowed")]
    public static partial void OriginRefused(ILogger logger, string path, IPAddress? remoteIp, string origin);

    [LoggerMessage(EventId = 102, EventName = "LockedOutConnectionRefused", Level = LogLevel.Information,
        Message = "Hub connection from {RemoteIp} refused: locked out after failed authentications")]
    public static partial void LockedOutConnectionRefused(ILogger logger, IPAddress? remoteIp);

    [LoggerMessage(EventId = 103, EventName = "ConnectionCapRefused", Level = LogLevel.Information,
        Message = "Hub connection from {RemoteIp} refused: too many connections")]
    public static partial void ConnectionCapRefused(ILogger logger, IPAddress? remoteIp);

    [LoggerMessage(EventId = 104, EventName = "NewConnectionQueueFull", Level = LogLevel.Information,
        Message = "Hub connection from {RemoteIp} refused: too many new connections are waiting")]
    public static partial void NewConnectionQueueFull(ILogger logger, IPAddress? remoteIp);

    [LoggerMessage(EventId = 105, EventName = "NegotiationRateLimited", Level = LogLevel.Information,
        Message = "Negotiations from {RemoteIp} refused: over the per-IP rate (further refusals within a minute are counted, not logged)")]
    public static partial void NegotiationRateLimited(ILogger logger, IPAddress? remoteIp);

    [LoggerMessage(EventId = 106, EventName = "LockoutCheckFailed", Level = LogLevel.Warning,
        Message = "Hub request from {RemoteIp} let through unchecked: the authentication failure limiter failed (its Authenticate fails closed)")]
    public static partial void LockoutCheckFailed(ILogger logger, IPAddress? remoteIp, Exception exception);

    [LoggerMessage(EventId = 107, EventName = "SharedUserBudgetFailed", Level = LogLevel.Warning,
        Message = "The shared per-user invocation budget failed; each node applies its own for a second")]
    public static partial void SharedUserBudgetFailed(ILogger logger, Exception exception);
}
