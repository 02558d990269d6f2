using Microsoft.Extensions.Logging;

namespace SignalRSecure.Server.Chat;

/// <summary>The chat hub's log events. None of them carries a ticket, a message text or the store's credentials.</summary>
internal static partial class ChatLog
{
    [LoggerMessage(EventId = 501, EventName = "RosterFailed", Level = LogLevel.Warning,
        Message = "Hub method {HubMethod} on connection {ConnectionId} answered unavailable: the group roster failed")]
    public static partial void RosterFailed(ILogger logger, string hubMethod, string connectionId, Exception exception);

    [LoggerMessage(EventId = 502, EventName = "DisconnectCleanupFailed", Level = LogLevel.Warning,
        Message = "Hub connection {ConnectionId} of {User} closed, but its group memberships could not be cleaned up")]
    public static partial void DisconnectCleanupFailed(ILogger logger, string connectionId, string user, Exception exception);

    [LoggerMessage(EventId = 503, EventName = "GroupAddFailed", Level = LogLevel.Warning,
        Message = "JoinGroup on connection {ConnectionId} answered unavailable: the hub's lifetime manager could not add it to the group; the roster entry was rolled back")]
    public static partial void GroupAddFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 504, EventName = "HistoryFailed", Level = LogLevel.Warning,
        Message = "Hub method {HubMethod} on connection {ConnectionId} answered unavailable: the chat history failed")]
    public static partial void HistoryFailed(ILogger logger, string hubMethod, string connectionId, Exception exception);

    [LoggerMessage(EventId = 505, EventName = "HistoryAppendFailed", Level = LogLevel.Warning,
        Message = "Hub method {HubMethod} on connection {ConnectionId} delivered its message without an id: the chat history failed to store it")]
    public static partial void HistoryAppendFailed(ILogger logger, string hubMethod, string connectionId, Exception exception);

    [LoggerMessage(EventId = 506, EventName = "DeliveryFailed", Level = LogLevel.Warning,
        Message = "Hub method {HubMethod} on connection {ConnectionId} answered unavailable: its message could not be sent (the backplane failed)")]
    public static partial void DeliveryFailed(ILogger logger, string hubMethod, string connectionId, Exception exception);
}
