namespace SignalRSecure.Chat.Contracts;

/// <summary>A chat message delivered by <see cref="IChatClient.ReceiveMessage"/>.</summary>
/// <param name="From">The sending user.</param>
/// <param name="Text">The text, to be shown as text and never interpreted as markup.</param>
/// <param name="Group">The group it was sent to, or null for a broadcast.</param>
/// <param name="SentAt">When the server accepted it.</param>
public sealed record ChatMessage(string From, string Text, string? Group, DateTimeOffset SentAt);
