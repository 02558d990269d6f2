using Microsoft.Extensions.Logging;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>The log events of the Redis scale-out.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 1, EventName = "RegistryCommandFailed", Level = LogLevel.Warning,
        Message = "A command from another node on the connection registry channel could not be applied")]
    public static partial void RegistryCommandFailed(ILogger logger, Exception exception);
}
