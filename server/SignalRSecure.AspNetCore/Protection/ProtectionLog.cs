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
}
