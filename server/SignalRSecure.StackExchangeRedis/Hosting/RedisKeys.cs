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

    /// <summary>The prefix itself, for scripts that name keys of their own (see <see cref="RedisOptions.ChannelPrefix"/> on Redis Cluster).</summary>
    public string Prefix => prefix;

    /// <summary>The ids of the nodes that have sent a heartbeat and not been swept.</summary>
    public RedisKey Nodes => prefix + "nodes";

    /// <summary>A node's heartbeat, which expires when the node stops sending it.</summary>
    public RedisKey NodeHeartbeat(string node) => prefix + "node:" + node;

    /// <summary>Taken by the node that removes a stopped node's entries, so that only one does.</summary>
    public RedisKey NodeSweepLock(string node) => prefix + "node-sweep:" + node;

    /// <summary>A node's authenticated connections per user (user to count), for the per-user connection cap.</summary>
    public RedisKey NodeUserConnections(string node) => NodeUserConnectionsPrefix + node;

    /// <summary>The prefix of <see cref="NodeUserConnections"/>.</summary>
    public string NodeUserConnectionsPrefix => prefix + "node-user-connections:";

    /// <summary>The connections of a node that are in at least one group, so that a stopped node's can be removed.</summary>
    public RedisKey NodeConnections(string node) => prefix + "node-connections:" + node;

    /// <summary>The groups one connection is in.</summary>
    public RedisKey ConnectionGroups(string connectionId) => prefix + "connection-groups:" + connectionId;

    /// <summary>A group's members: connection id to user.</summary>
    public RedisKey Group(string group) => GroupPrefix + group;

    /// <summary>The prefix of <see cref="Group"/>.</summary>
    public string GroupPrefix => prefix + "group:";

    /// <summary>A group's users: user to the number of the user's connections in it.</summary>
    public RedisKey GroupUsers(string group) => GroupUsersPrefix + group;

    /// <summary>The prefix of <see cref="GroupUsers"/>.</summary>
    public string GroupUsersPrefix => prefix + "group-users:";

    /// <summary>The failed authentications, lockout and attempts in flight of one address (its partition key).</summary>
    public RedisKey AuthenticationFailures(string address) => prefix + "auth-failures:" + address;

    /// <summary>The login attempts of one address in the current window.</summary>
    public RedisKey LoginAttemptsByIp(string address) => prefix + "login-ip:" + address;

    /// <summary>The login attempts for one user name in the current window.</summary>
    public RedisKey LoginAttemptsByUser(string user) => prefix + "login-user:" + user;

    /// <summary>A user's shared invocation bucket.</summary>
    public RedisKey UserInvocations(string user) => prefix + "user-invocations:" + user;

    /// <summary>The channel on which nodes ask each other to close, or change the groups of, a user's connections.</summary>
    public RedisChannel Registry => RedisChannel.Literal(prefix + "registry");
}
