using Microsoft.Extensions.Logging;

namespace SignalRSecure.Client;

/// <summary>What <see cref="SecureHubClient"/> logs. Never a ticket: tickets are neither logged nor put in messages.</summary>
internal static partial class SecureHubClientLog
{
    [LoggerMessage(EventId = 1, EventName = "Connecting", Level = LogLevel.Information,
        Message = "Connecting to {HubUri}")]
    public static partial void Connecting(ILogger logger, Uri hubUri);

    [LoggerMessage(EventId = 2, EventName = "Authenticated", Level = LogLevel.Information,
        Message = "Authenticated as {User} until {ExpiresAt}")]
    public static partial void Authenticated(ILogger logger, string user, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 3, EventName = "ConnectionClosed", Level = LogLevel.Information,
        Message = "The hub connection closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = 4, EventName = "Reconnecting", Level = LogLevel.Information,
        Message = "Reconnect attempt {Attempt} in {Delay}")]
    public static partial void Reconnecting(ILogger logger, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 5, EventName = "ReconnectAttemptFailed", Level = LogLevel.Warning,
        Message = "Reconnect attempt {Attempt} failed")]
    public static partial void ReconnectAttemptFailed(ILogger logger, int attempt, Exception exception);

    [LoggerMessage(EventId = 6, EventName = "Reauthenticated", Level = LogLevel.Information,
        Message = "Session extended until {ExpiresAt}")]
    public static partial void Reauthenticated(ILogger logger, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 7, EventName = "ReauthenticationFailed", Level = LogLevel.Warning,
        Message = "Extending the session failed; trying again while it lasts")]
    public static partial void ReauthenticationFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, EventName = "GroupRejoinRefused", Level = LogLevel.Warning,
        Message = "The new connection could not rejoin group {Group}: {Error}")]
    public static partial void GroupRejoinRefused(ILogger logger, string group, string error);

    [LoggerMessage(EventId = 9, EventName = "EventHandlerFailed", Level = LogLevel.Error,
        Message = "A handler of {EventName} threw")]
    public static partial void EventHandlerFailed(ILogger logger, string eventName, Exception exception);

    [LoggerMessage(EventId = 10, EventName = "Closed", Level = LogLevel.Information,
        Message = "The client stopped: {Reason}")]
    public static partial void Closed(ILogger logger, string reason, Exception? exception);
}
