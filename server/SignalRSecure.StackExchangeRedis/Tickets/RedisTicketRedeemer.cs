using System.Net;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.StackExchangeRedis.Protection;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Tickets;

/// <summary>
/// Redeems a ticket in one Redis script together with the lockout of its address: the script refuses a locked-out
/// address without reading the ticket, takes the ticket (<c>GETDEL</c>) otherwise, and counts a missing one as a
/// failure, all in one step. An <c>Authenticate</c> on Redis costs one round trip here instead of three (begin the
/// attempt, take the ticket, end the attempt), and needs no attempt in flight: nothing can happen between the lockout's
/// decision and the read. Only a ticket found but refused by its check (expiry, bindings) takes a second trip to count
/// the failure; such a ticket is spent, so the gap between the two gives a guesser nothing.
/// </summary>
internal sealed class RedisTicketRedeemer(RedisConnection redis, RedisKeys keys, RedisAuthenticationFailureLimiter lockout, TimeProvider time)
    : ITicketRedeemer
{
    // KEYS[2]: the ticket, absent for a malformed one (nothing to read: a failure). Returns {-1}: locked out, the ticket
    // unread; {0}: the threshold is taken by attempts in flight (begun elsewhere through the limiter), ask again;
    // {1, ticket}: taken; {2, lockedOut}: no such ticket, counted as a failure.
    private const string RedeemScript = RedisAuthenticationFailureLimiter.Prelude + """
        if locked > now then
          save()
          return {-1}
        end
        if count + inflight >= threshold then
          save()
          return {0}
        end
        local ticket = false
        if KEYS[2] then ticket = redis.call('GETDEL', KEYS[2]) end
        if ticket then
          if count == 0 and inflight == 0 then
            redis.call('DEL', key)
          else
            save()
          end
          return {1, ticket}
        end
        local lockedOut = fail()
        save()
        return {2, lockedOut}
        """;

    public async ValueTask<GuardedRedemption> RedeemAsync(
        IPAddress? address, string? ticketHash, Func<StoredTicket, TicketRejection?> check, CancellationToken cancellationToken = default)
    {
        RedisKey[] ticketKey = ticketHash is null ? [] : [keys.Ticket(ticketHash)];
        while (true)
        {
            var outcome = (RedisResult[])(await lockout.EvaluateAsync(RedeemScript, address, ticketKey, cancellationToken))!;
            switch ((long)outcome[0])
            {
                case -1:
                    return GuardedRedemption.Locked;
                case 0:
                    await Task.Delay(RedisAuthenticationFailureLimiter.WaitInterval, time, cancellationToken);
                    continue;
                case 2:
                    var missing = ticketHash is null ? TicketRejection.Malformed : TicketRejection.Unknown;
                    return new(null, missing, AddressLockedOut: false, LockedOut: (long)outcome[1] == 1);
            }

            var database = await redis.GetDatabaseAsync(cancellationToken);
            var stored = RedisTicketStore.Taken(database, keys, ticketHash!, (RedisValue)outcome[1]);
            if ((stored is null ? TicketRejection.Unknown : check(stored)) is not { } rejection)
            {
                return new(stored, null, AddressLockedOut: false, LockedOut: false);
            }

            try
            {
                return new(null, rejection, AddressLockedOut: false, await lockout.RecordFailureAsync(address, CancellationToken.None));
            }
            catch (Exception ex)
            {
                return new(null, rejection, AddressLockedOut: false, LockedOut: false, ex);
            }
        }
    }
}
