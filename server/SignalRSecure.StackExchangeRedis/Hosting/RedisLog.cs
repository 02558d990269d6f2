using Microsoft.Extensions.Logging;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>The log events of the Redis scale-out.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 1, EventName = "RegistryCommandFailed", Level = LogLevel.Warning,
        Message = "A command from another node on the connection registry channel could not be applied")]
    public static partial void RegistryCommandFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "HeartbeatFailed", Level = LogLevel.Warning,
        Message = "This node's heartbeat or its sweep of stopped nodes failed; it tries again at the next beat")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3, EventName = "NodeHeartbeatLapsed", Level = LogLevel.Warning,
        Message = "This node's heartbeat had expired (no beat for {NodeTimeout}): the other nodes may have removed its connections from the group roster")]
    public static partial void NodeHeartbeatLapsed(ILogger logger, TimeSpan nodeTimeout);

    [LoggerMessage(EventId = 4, EventName = "NodeSwept", Level = LogLevel.Information,
        Message = "Node {Node} stopped sending heartbeats: {Connections} of its connections removed from the group roster")]
    public static partial void NodeSwept(ILogger logger, string node, int connections);

    [LoggerMessage(EventId = 5, EventName = "DepartureNotAnnounced", Level = LogLevel.Warning,
        Message = "The departure of connection {ConnectionId} of a stopped node could not be announced")]
    public static partial void DepartureNotAnnounced(ILogger logger, string connectionId, Exception exception);
}
