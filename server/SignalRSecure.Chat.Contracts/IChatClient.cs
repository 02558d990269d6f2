namespace SignalRSecure.Chat.Contracts;

/// <summary>
/// The callbacks the chat hub invokes on authenticated clients. A connection that has not authenticated receives none.
/// </summary>
public interface IChatClient
{
    /// <summary>A broadcast (<see cref="ChatMessage.Group"/> is null) or a message to a joined group.</summary>
    Task ReceiveMessage(ChatMessage message);

    /// <summary>A user joined a group the receiver is a member of.</summary>
    Task UserJoined(GroupPresence presence);

    /// <summary>A user left a group the receiver is a member of, or its connection closed.</summary>
    Task UserLeft(GroupPresence presence);
}
