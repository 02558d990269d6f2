using SignalRSecure.Chat.Contracts;

namespace SignalRSecure.Server.Chat.History;

/// <summary>
/// The history when <see cref="ChatOptions.History"/> is off: messages are delivered as they are, without an id; reads
/// find nothing, and a recovery says it could not reach back, since the messages of the gap were never kept.
/// </summary>
internal sealed class DisabledChatHistory : IChatHistory
{
    public async ValueTask AppendAsync(ChatMessage message, Func<ChatMessage, Task> deliver, CancellationToken cancellationToken) =>
        await deliver(message);

    public ValueTask<IReadOnlyList<ChatMessage>> ReadAsync(string? group, string? beforeId, int limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ChatMessage>>(Array.Empty<ChatMessage>());

    public ValueTask<GroupRecovery> ReadSinceAsync(string? group, string sinceId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new GroupRecovery(Array.Empty<ChatMessage>(), Recovered: false));
}
