using SignalRSecure.Chat.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// Delivers each group's messages (the broadcast channel's under the key "") once and in id order across live delivery
/// and recovery: a message whose id was delivered already is dropped, and while a group recovers its live messages wait,
/// to follow the recovered ones (recovery asks for what is newer than the newest id delivered). Messages without an id (sent while the server's
/// history was down) are delivered as they come.
/// </summary>
internal sealed class MessageSequencer
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Channel> _channels = new(StringComparer.Ordinal);

    /// <summary>A live message: returns what to deliver now, in order (nothing while its group recovers).</summary>
    public IReadOnlyList<ChatMessage> OnLive(ChatMessage message)
    {
        if (message.Id is null || !ChatMessageIds.IsValid(message.Id))
        {
            return [message];
        }

        lock (_lock)
        {
            var channel = ChannelOf(Key(message.Group));
            if (channel.Held is { } held)
            {
                held.Add(message);
                return [];
            }

            return channel.Accept(message) ? [message] : [];
        }
    }

    /// <summary>
    /// Holds the live messages of every group that has delivered one, until its <see cref="EndRecovery"/>: called
    /// before a new connection authenticates, so that no live message overtakes the recovered ones.
    /// </summary>
    public void HoldAll()
    {
        lock (_lock)
        {
            foreach (var channel in _channels.Values)
            {
                channel.Held ??= [];
            }
        }
    }

    /// <summary>The groups (null for the broadcast channel) with a last delivered id: those a reconnect recovers.</summary>
    public IReadOnlyList<(string? Group, string LastId)> Recoverable()
    {
        lock (_lock)
        {
            return [.. _channels.Where(c => c.Value.LastId is not null).Select(c => (c.Key.Length == 0 ? null : c.Key, c.Value.LastId!))];
        }
    }

    /// <summary>Ends a group's recovery: returns the recovered messages and then the held live ones, each once, in id order.</summary>
    public IReadOnlyList<ChatMessage> EndRecovery(string? group, IReadOnlyList<ChatMessage> recovered)
    {
        lock (_lock)
        {
            var channel = ChannelOf(Key(group));
            var held = channel.Held ?? [];
            channel.Held = null;
            List<ChatMessage> deliver = [];
            foreach (var message in recovered.Concat(held))
            {
                if (message.Id is null || !ChatMessageIds.IsValid(message.Id) || channel.Accept(message))
                {
                    deliver.Add(message);
                }
            }

            return deliver;
        }
    }

    /// <summary>Ends every recovery still holding messages (a group that was not rejoined): returns its held messages.</summary>
    public IReadOnlyList<ChatMessage> ReleaseHeld()
    {
        lock (_lock)
        {
            List<ChatMessage> deliver = [];
            foreach (var key in _channels.Where(c => c.Value.Held is not null).Select(c => c.Key).ToArray())
            {
                deliver.AddRange(EndRecovery(key.Length == 0 ? null : key, []));
            }

            return deliver;
        }
    }

    /// <summary>Forgets a group the client left or lost: a later join starts afresh.</summary>
    public void Forget(string? group)
    {
        lock (_lock)
        {
            _channels.Remove(Key(group));
        }
    }

    private static string Key(string? group) => group ?? string.Empty;

    private Channel ChannelOf(string key)
    {
        if (!_channels.TryGetValue(key, out var channel))
        {
            channel = new Channel();
            _channels.Add(key, channel);
        }

        return channel;
    }

    private sealed class Channel
    {
        // Enough to recognise every message a recovery can return again (the server's history holds 100 by default):
        // only those overlap with what was delivered live.
        private const int RememberedIds = 1_024;

        private readonly HashSet<string> _delivered = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();

        /// <summary>The newest id delivered: where a recovery starts.</summary>
        public string? LastId { get; private set; }

        public List<ChatMessage>? Held { get; set; }

        // Drops only what was delivered already. Two nodes sending to one group at the same moment can publish slightly
        // out of id order; a message older than the newest one delivered is still new to this client and is kept.
        public bool Accept(ChatMessage message)
        {
            var id = message.Id!;
            if (!_delivered.Add(id))
            {
                return false;
            }

            _order.Enqueue(id);
            if (_order.Count > RememberedIds)
            {
                _delivered.Remove(_order.Dequeue());
            }

            if (LastId is null || ChatMessageIds.Compare(id, LastId) > 0)
            {
                LastId = id;
            }

            return true;
        }
    }
}
