namespace SignalRSecure.Chat.Contracts;

/// <summary>A chat message delivered by <see cref="IChatClient.ReceiveMessage"/>.</summary>
/// <param name="From">The sending user.</param>
/// <param name="Text">The text, to be shown as text and never interpreted as markup.</param>
/// <param name="Group">The group it was sent to, or null for a broadcast.</param>
/// <param name="SentAt">When the server accepted it.</param>
/// <param name="Id">
/// The message's place in its group's (or the broadcast channel's) history: the same on every node, increasing within
/// the group, compared with <see cref="ChatMessageIds.Compare"/> and otherwise opaque. Null when the history store was
/// unavailable as the message was sent: such a message is delivered live but cannot be recovered.
/// </param>
public sealed record ChatMessage(string From, string Text, string? Group, DateTimeOffset SentAt, string? Id = null);
