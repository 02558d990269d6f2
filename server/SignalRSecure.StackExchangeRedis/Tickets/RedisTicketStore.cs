using System.Text.Json;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Tickets;

/// <summary>
/// Tickets in Redis, so that a ticket minted by one node is redeemed on any other. Each ticket is one key (its hash)
/// that expires with the ticket; redemption is <c>GETDEL</c>, so of any number of concurrent redemptions on any nodes
/// exactly one gets it. A set per user and per login session lists their ticket hashes for revocation.
/// </summary>
/// <remarks>
/// Every call can throw when Redis is unreachable; the gate turns that into a refusal, so a ticket is never accepted
/// without Redis having removed it.
/// </remarks>
internal sealed class RedisTicketStore(RedisConnection redis, RedisKeys keys, TimeProvider time) : ITicketStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default)
    {
        var lifetime = ticket.ExpiresAt - time.GetUtcNow();
        if (lifetime <= TimeSpan.Zero)
        {
            return;
        }

        var database = await redis.GetDatabaseAsync(cancellationToken);
        var batch = database.CreateBatch();

        // Every ticket of a deployment has the same lifetime, so the newest one always expires last: its lifetime is
        // the right expiry for the indexes too.
        List<Task> writes =
        [
            batch.StringSetAsync(keys.Ticket(ticket.Hash), JsonSerializer.SerializeToUtf8Bytes(ticket, Json), lifetime),
            batch.SetAddAsync(keys.UserTickets(ticket.User), ticket.Hash),
            batch.KeyExpireAsync(keys.UserTickets(ticket.User), lifetime),
        ];
        if (ticket.SessionKey is { } session)
        {
            writes.Add(batch.SetAddAsync(keys.SessionTickets(session), ticket.Hash));
            writes.Add(batch.KeyExpireAsync(keys.SessionTickets(session), lifetime));
        }

        batch.Execute();
        await Task.WhenAll(writes).WaitAsync(cancellationToken);
    }

    public async ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var value = await database.StringGetDeleteAsync(keys.Ticket(hash)).WaitAsync(cancellationToken);
        if (value.IsNull)
        {
            return null;
        }

        return Taken(database, keys, hash, value);
    }

    /// <summary>
    /// The ticket in <paramref name="value"/>, just removed from the key of <paramref name="hash"/> (by
    /// <see cref="TryRedeemAsync"/> or by a script), minus its entry in the user's index.
    /// </summary>
    internal static StoredTicket? Taken(IDatabase database, RedisKeys keys, string hash, RedisValue value)
    {
        var ticket = JsonSerializer.Deserialize<StoredTicket>((byte[])value!, Json);
        if (ticket is not null)
        {
            // Only keeps the indexes small; an index entry of a spent ticket is harmless and expires anyway.
            database.SetRemove(keys.UserTickets(ticket.User), hash, CommandFlags.FireAndForget);
        }

        return ticket;
    }

    public async ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default) =>
        await RevokeIndexAsync(keys.UserTickets(user), cancellationToken);

    public async ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default) =>
        await RevokeIndexAsync(keys.SessionTickets(sessionKey), cancellationToken);

    private async Task RevokeIndexAsync(RedisKey index, CancellationToken cancellationToken)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var hashes = await database.SetMembersAsync(index).WaitAsync(cancellationToken);

        // One key at a time rather than one multi-key DEL: the tickets live in different slots of a Redis Cluster.
        var deletions = hashes.Select(hash => database.KeyDeleteAsync(keys.Ticket(hash!))).Append(database.KeyDeleteAsync(index));
        await Task.WhenAll(deletions).WaitAsync(cancellationToken);
    }
}
