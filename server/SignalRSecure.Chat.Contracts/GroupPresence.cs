namespace SignalRSecure.Chat.Contracts;

/// <summary>A user joining or leaving a group, delivered by <see cref="IChatClient.UserJoined"/> and <see cref="IChatClient.UserLeft"/>.</summary>
/// <param name="Group">The group.</param>
/// <param name="User">The user who joined or left.</param>
public sealed record GroupPresence(string Group, string User);
