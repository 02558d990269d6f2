using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>
/// The names of every key SignalRSecure keeps in Redis, all under one prefix so that several applications can share a
/// Redis and an operator can find them (<c>SCAN 0 MATCH signalrsecure:*</c>).
/// </summary>
/// <param name="prefix">The prefix, <see cref="RedisOptions.ChannelPrefix"/>.</param>
internal sealed class RedisKeys(string prefix)
{
    /// <summary>An unredeemed ticket, by the hash of its secret.</summary>
    public RedisKey Ticket(string hash) => prefix + "ticket:" + hash;

    /// <summary>The hashes of a user's unredeemed tickets, for revocation.</summary>
    public RedisKey UserTickets(string user) => prefix + "user-tickets:" + user;

    /// <summary>The hashes of the unredeemed tickets a login session asked for, for logout.</summary>
    public RedisKey SessionTickets(string sessionKey) => prefix + "session-tickets:" + sessionKey;

    /// <summary>A login session, by the hash of its id.</summary>
    public RedisKey Session(string key) => prefix + "session:" + key;

    /// <summary>The keys of a user's login sessions, for revocation.</summary>
    public RedisKey UserSessions(string user) => prefix + "user-sessions:" + user;

    /// <summary>The channel on which nodes ask each other to close, or change the groups of, a user's connections.</summary>
    public RedisChannel Registry => RedisChannel.Literal(prefix + "registry");
}
