using System.Collections.Concurrent;

namespace SignalRSecure.Server.Tickets;

/// <summary>The default <see cref="ITicketStore"/>: one process's memory.</summary>
internal sealed class InMemoryTicketStore(TimeProvider time) : ITicketStore
{
    // Expired tickets are dropped every this many additions, so the store cannot grow without bound.
    private const int SweepEvery = 256;

    private readonly ConcurrentDictionary<string, StoredTicket> _tickets = new(StringComparer.Ordinal);
    private int _additions;

    public int Count => _tickets.Count;

    public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Increment(ref _additions) % SweepEvery == 0)
        {
            var now = time.GetUtcNow();
            RemoveWhere(t => t.ExpiresAt <= now);
        }

        _tickets[ticket.Hash] = ticket;
        return ValueTask.CompletedTask;
    }

    public ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_tickets.TryRemove(hash, out var ticket) ? ticket : null);

    public ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default)
    {
        RemoveWhere(t => string.Equals(t.User, user, StringComparison.Ordinal));
        return ValueTask.CompletedTask;
    }

    public ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default)
    {
        RemoveWhere(t => string.Equals(t.SessionKey, sessionKey, StringComparison.Ordinal));
        return ValueTask.CompletedTask;
    }

    private void RemoveWhere(Func<StoredTicket, bool> predicate)
    {
        foreach (var (hash, ticket) in _tickets)
        {
            if (predicate(ticket))
            {
                _tickets.TryRemove(new KeyValuePair<string, StoredTicket>(hash, ticket));
            }
        }
    }
}
