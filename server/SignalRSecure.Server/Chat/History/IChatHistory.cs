using SignalRSecure.Chat.Contracts;

namespace SignalRSecure.Server.Chat.History;

/// <summary>
/// The recent messages of every group and of the broadcast channel (the group null), for GetHistory and for the
/// recovery of RejoinGroup. The store may be a network store that is slow or down: every method may throw, and the
/// hub answers <c>temporarily unavailable</c> then.
/// </summary>
/// <remarks>
/// Ids are <see cref="ChatMessageIds"/>: increasing within a group, the same on every node that shares the store.
/// Appending and delivering go together (<see cref="AppendAsync"/>) so that one node delivers each group's messages in
/// id order: a client drops a message whose id is not newer than the last it delivered, and would otherwise drop a
/// message that two concurrent senders' deliveries overtook.
/// </remarks>
public interface IChatHistory
{
    /// <summary>
    /// Gives <paramref name="message"/> the next id of its group (<see cref="ChatMessage.Group"/>), stores it, and runs
    /// <paramref name="deliver"/> with the stored message while no other append of the same group runs on this node.
    /// </summary>
    /// <param name="message">The message, without an id.</param>
    /// <param name="deliver">Sends the stored message to its audience.</param>
    /// <param name="cancellationToken">Cancels waiting for the group's turn and the store call.</param>
    /// <exception cref="Exception">The store failed; <paramref name="deliver"/> has not run.</exception>
    ValueTask AppendAsync(ChatMessage message, Func<ChatMessage, Task> deliver, CancellationToken cancellationToken);

    /// <summary>Reads the newest messages of a group older than <paramref name="beforeId"/> (all when null), oldest first.</summary>
    /// <param name="group">The group, or null for the broadcast channel.</param>
    /// <param name="beforeId">A well-formed id, or null for the newest messages.</param>
    /// <param name="limit">The most messages to return, at least 1.</param>
    /// <param name="cancellationToken">Cancels the store call.</param>
    /// <returns>The messages, oldest first.</returns>
    ValueTask<IReadOnlyList<ChatMessage>> ReadAsync(string? group, string? beforeId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the messages of a group newer than <paramref name="sinceId"/>, oldest first, and whether they are all the
    /// group had after it (false when the history no longer reaches back to it).
    /// </summary>
    /// <param name="group">The group, or null for the broadcast channel.</param>
    /// <param name="sinceId">A well-formed id: the last one the client delivered from the group.</param>
    /// <param name="cancellationToken">Cancels the store call.</param>
    /// <returns>The messages and whether the recovery is complete.</returns>
    ValueTask<GroupRecovery> ReadSinceAsync(string? group, string sinceId, CancellationToken cancellationToken);
}
