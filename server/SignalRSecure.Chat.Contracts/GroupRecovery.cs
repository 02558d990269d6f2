namespace SignalRSecure.Chat.Contracts;

/// <summary>The answer of <see cref="IChatHub.RejoinGroup"/>: the messages a client missed, and whether they are all of them.</summary>
/// <param name="Messages">The messages after the client's last id, oldest first.</param>
/// <param name="Recovered">
/// False when the history no longer reaches back to the client's last id (it was trimmed or expired, or the server
/// kept no history of the group then): messages may be missing before the first one in <paramref name="Messages"/>.
/// </param>
public sealed record GroupRecovery(IReadOnlyList<ChatMessage> Messages, bool Recovered);
