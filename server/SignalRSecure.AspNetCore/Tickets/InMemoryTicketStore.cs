using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>
/// The default <see cref="ITicketStore"/>: one process's memory. Expired tickets are dropped on a timer, once per
/// <see cref="TicketOptions.Lifetime"/> (see <see cref="ExpirySweep"/>), whether or not new ones arrive.
/// </summary>
internal sealed class InMemoryTicketStore : ITicketStore, IDisposable
{
    private readonly ConcurrentDictionary<string, StoredTicket> _tickets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ITimer _sweep;

    public InMemoryTicketStore(TimeProvider time, IOptions<TicketOptions> options)
    {
        _time = time;
        _sweep = ExpirySweep.Start(time, options.Value.Lifetime, SweepExpired);
    }

    public int Count => _tickets.Count;

    public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default)
    {
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

    public void Dispose() => _sweep.Dispose();

    private void SweepExpired()
    {
        var now = _time.GetUtcNow();
        RemoveWhere(t => t.ExpiresAt <= now);
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
