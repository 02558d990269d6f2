using Microsoft.Extensions.Options;
using SignalRSecure.Chat.Contracts;

namespace SignalRSecure.Server.Chat.History;

/// <summary>
/// The history of one node, in memory: per group the last <see cref="ChatOptions.HistoryLength"/> messages younger than
/// <see cref="ChatOptions.HistoryLifetime"/>, for at most <see cref="ChatOptions.HistoryGroups"/> groups (a new group
/// evicts the one written to least recently). Ids are the node's clock in milliseconds and a sequence within the
/// millisecond, so they keep increasing when a group is evicted and written again, and after a restart.
/// </summary>
internal sealed class InMemoryChatHistory(IOptions<ChatOptions> options, TimeProvider time) : IChatHistory
{
    private readonly ChatOptions _options = options.Value;
    private readonly GroupTurns _turns = new();
    private readonly Lock _sync = new();
    private readonly Dictionary<string, GroupLog> _groups = new(StringComparer.Ordinal);

    // Least recently written first: the eviction order of the group cap.
    private readonly LinkedList<string> _writeOrder = new();
    private ulong _lastHigh;
    private ulong _lastLow;

    public async ValueTask AppendAsync(ChatMessage message, Func<ChatMessage, Task> deliver, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(deliver);
        using (await _turns.EnterAsync(message.Group, cancellationToken).ConfigureAwait(false))
        {
            ChatMessage stored;
            lock (_sync)
            {
                var now = time.GetUtcNow();
                stored = message with { Id = NextId(now) };
                var log = Write(Key(message.Group), stored.Id);
                log.Entries.Add(new Entry(stored, now + _options.HistoryLifetime));
                log.Prune(now, _options.HistoryLength);
            }

            await deliver(stored).ConfigureAwait(false);
        }
    }

    public ValueTask<IReadOnlyList<ChatMessage>> ReadAsync(string? group, string? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        lock (_sync)
        {
            if (!_groups.TryGetValue(Key(group), out var log))
            {
                return ValueTask.FromResult<IReadOnlyList<ChatMessage>>(Array.Empty<ChatMessage>());
            }

            log.Prune(time.GetUtcNow(), _options.HistoryLength);
            var end = log.Entries.Count;
            while (beforeId is not null && end > 0 && ChatMessageIds.Compare(log.Entries[end - 1].Message.Id!, beforeId) >= 0)
            {
                end--;
            }

            var start = Math.Max(0, end - limit);
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>(log.Entries[start..end].Select(e => e.Message).ToArray());
        }
    }

    public ValueTask<GroupRecovery> ReadSinceAsync(string? group, string sinceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sinceId);
        lock (_sync)
        {
            // No log: this node kept nothing of the group since the client's message (evicted, or the node restarted).
            if (!_groups.TryGetValue(Key(group), out var log))
            {
                return ValueTask.FromResult(new GroupRecovery(Array.Empty<ChatMessage>(), Recovered: false));
            }

            log.Prune(time.GetUtcNow(), _options.HistoryLength);
            var missed = log.Entries.Where(e => ChatMessageIds.Compare(e.Message.Id!, sinceId) > 0).Select(e => e.Message).ToArray();
            return ValueTask.FromResult(new GroupRecovery(missed, ChatMessageIds.Compare(sinceId, log.Floor) >= 0));
        }
    }

    private static string Key(string? group) => group ?? string.Empty;

    private string NextId(DateTimeOffset now)
    {
        var millisecond = (ulong)Math.Max(0, now.ToUnixTimeMilliseconds());
        if (millisecond > _lastHigh)
        {
            (_lastHigh, _lastLow) = (millisecond, 0);
        }
        else
        {
            // The same millisecond, or a clock that stepped back: ids still increase.
            _lastLow++;
        }

        return ChatMessageIds.Format(_lastHigh, _lastLow);
    }

    private GroupLog Write(string key, string id)
    {
        if (_groups.TryGetValue(key, out var log))
        {
            _writeOrder.Remove(log.Node);
            _writeOrder.AddLast(log.Node);
            return log;
        }

        if (_groups.Count >= _options.HistoryGroups && _writeOrder.First is { } oldest)
        {
            _writeOrder.RemoveFirst();
            _groups.Remove(oldest.Value);
        }

        log = new GroupLog(_writeOrder.AddLast(key), id);
        _groups.Add(key, log);
        return log;
    }

    private readonly record struct Entry(ChatMessage Message, DateTimeOffset Expires);

    /// <param name="node">The group's place in the write order.</param>
    /// <param name="floor">
    /// The oldest id a recovery may start from and be complete: the log has kept every message newer than it. The first
    /// message of a new log, then the last one trimmed.
    /// </param>
    private sealed class GroupLog(LinkedListNode<string> node, string floor)
    {
        public LinkedListNode<string> Node { get; } = node;

        public List<Entry> Entries { get; } = [];

        public string Floor { get; private set; } = floor;

        public void Prune(DateTimeOffset now, int length)
        {
            var remove = Math.Max(0, Entries.Count - length);
            while (remove < Entries.Count && Entries[remove].Expires <= now)
            {
                remove++;
            }

            if (remove > 0)
            {
                Floor = Entries[remove - 1].Message.Id!;
                Entries.RemoveRange(0, remove);
            }
        }
    }
}
