using System.Collections.Concurrent;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Groups;

/// <summary>
/// The group roster in Redis, shared by every node: per group a hash of its connections (to their users) and a hash of
/// its users (to how many of their connections are in it), per connection a set of its groups, and per node a set of
/// its connections that are in a group. Every change is one Lua script, so the indexes never disagree, and the
/// per-connection group cap is checked where the membership is written.
/// </summary>
/// <remarks>
/// A connection's entries are removed by its own node when it closes; a node that stops (crash, <c>kill -9</c>)
/// leaves them behind until another node sweeps them once its heartbeat has expired (<see cref="NodeHeartbeat"/>),
/// which is what <see cref="RemoveNodeConnectionAsync"/> is for; a removal that fails (Redis unreachable as the connection
/// closes) is remembered and retried by the node's heartbeat (<see cref="TakeFailedRemovals"/>). A connection joins only
/// through its own node, so the node knows which of its connections ever tried to join: closing one that never did costs
/// no round trip. Every call throws when Redis is unreachable.
/// </remarks>
internal sealed class RedisGroupRoster(RedisConnection redis, RedisKeys keys, RedisNode node) : IGroupRoster
{
    // 0 joined, 1 already a member, 2 in too many groups: the order of IGroupRoster.JoinResult.
    private const string JoinScript = """
        local group, connection, user, maximum = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
        if redis.call('SISMEMBER', KEYS[1], group) == 1 then return 1 end
        if redis.call('SCARD', KEYS[1]) >= maximum then return 2 end
        redis.call('SADD', KEYS[1], group)
        redis.call('HSET', KEYS[2], connection, user)
        redis.call('HINCRBY', KEYS[3], user, 1)
        redis.call('SADD', KEYS[4], connection)
        return 0
        """;

    private const string LeaveScript = """
        local group, connection = ARGV[1], ARGV[2]
        if redis.call('SREM', KEYS[1], group) == 0 then return 0 end
        local user = redis.call('HGET', KEYS[2], connection)
        redis.call('HDEL', KEYS[2], connection)
        if user and redis.call('HINCRBY', KEYS[3], user, -1) <= 0 then redis.call('HDEL', KEYS[3], user) end
        if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[4], connection) end
        return 1
        """;

    // Returns the connection's user (empty if it was in no group), then the groups the user has no connection left in.
    private const string RemoveScript = """
        local connection, groupPrefix, usersPrefix = ARGV[1], ARGV[2], ARGV[3]
        local result = { '' }
        for _, group in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local user = redis.call('HGET', groupPrefix .. group, connection)
          if user then
            result[1] = user
            redis.call('HDEL', groupPrefix .. group, connection)
            if redis.call('HINCRBY', usersPrefix .. group, user, -1) <= 0 then
              redis.call('HDEL', usersPrefix .. group, user)
              table.insert(result, group)
            end
          end
        end
        redis.call('DEL', KEYS[1])
        redis.call('SREM', KEYS[2], connection)
        return result
        """;

    // The connections of this node that tried to join a group, marked before the script runs: a join whose answer was
    // lost may still have been written.
    private readonly ConcurrentDictionary<string, byte> _joiners = new(StringComparer.Ordinal);

    // This node's closed connections whose removal failed, for the heartbeat to retry.
    private readonly ConcurrentDictionary<string, byte> _failedRemovals = new(StringComparer.Ordinal);

    public async ValueTask<IGroupRoster.JoinResult> TryJoinAsync(string connectionId, string user, string group, int maximumGroups, CancellationToken cancellationToken = default)
    {
        _joiners.TryAdd(connectionId, 0);
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var result = (long)await database.ScriptEvaluateAsync(
            JoinScript,
            [keys.ConnectionGroups(connectionId), keys.Group(group), keys.GroupUsers(group), keys.NodeConnections(node.Id)],
            [group, connectionId, user, maximumGroups]).WaitAsync(cancellationToken);
        return (IGroupRoster.JoinResult)result;
    }

    public async ValueTask<bool> LeaveAsync(string connectionId, string group, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        return (long)await database.ScriptEvaluateAsync(
            LeaveScript,
            [keys.ConnectionGroups(connectionId), keys.Group(group), keys.GroupUsers(group), keys.NodeConnections(node.Id)],
            [group, connectionId]).WaitAsync(cancellationToken) == 1;
    }

    public async ValueTask<bool> IsMemberAsync(string connectionId, string group, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        return await database.SetContainsAsync(keys.ConnectionGroups(connectionId), group).WaitAsync(cancellationToken);
    }

    public async ValueTask<IReadOnlyList<string>> GroupsOfAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var groups = await database.SetMembersAsync(keys.ConnectionGroups(connectionId)).WaitAsync(cancellationToken);
        return [.. groups.Select(group => (string)group!)];
    }

    public async ValueTask<IReadOnlyList<string>> MembersAsync(string group, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var users = await database.HashKeysAsync(keys.GroupUsers(group)).WaitAsync(cancellationToken);
        return [.. users.Select(user => (string)user!).Order(StringComparer.Ordinal)];
    }

    public async ValueTask<IReadOnlyList<string>> RemoveConnectionAsync(string connectionId, CancellationToken cancellationToken = default)
    {
        if (!_joiners.TryRemove(connectionId, out _))
        {
            return [];
        }

        try
        {
            return (await RemoveAsync(connectionId, node.Id, cancellationToken)).GroupsLeft;
        }
        catch
        {
            _failedRemovals.TryAdd(connectionId, 0);
            throw;
        }
    }

    /// <summary>
    /// This node's closed connections whose removal failed since the last call; the caller retries each with
    /// <see cref="RemoveNodeConnectionAsync"/> and hands back those that fail again (<see cref="RemovalFailed"/>).
    /// </summary>
    public IReadOnlyList<string> TakeFailedRemovals()
    {
        var taken = new List<string>();
        foreach (var connectionId in _failedRemovals.Keys)
        {
            if (_failedRemovals.TryRemove(connectionId, out _))
            {
                taken.Add(connectionId);
            }
        }

        return taken;
    }

    /// <summary>Remembers a closed connection whose removal failed again, for the next retry.</summary>
    public void RemovalFailed(string connectionId) => _failedRemovals.TryAdd(connectionId, 0);

    /// <summary>The connections a node left in the roster; for sweeping a stopped node.</summary>
    public async Task<IReadOnlyList<string>> NodeConnectionsAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var connections = await database.SetMembersAsync(keys.NodeConnections(nodeId)).WaitAsync(cancellationToken);
        return [.. connections.Select(connection => (string)connection!)];
    }

    /// <summary>Removes a connection a stopped node left behind: its user, and the groups the user has no connection left in.</summary>
    public Task<(string User, IReadOnlyList<string> GroupsLeft)> RemoveNodeConnectionAsync(string nodeId, string connectionId, CancellationToken cancellationToken = default) =>
        RemoveAsync(connectionId, nodeId, cancellationToken);

    private async Task<(string User, IReadOnlyList<string> GroupsLeft)> RemoveAsync(string connectionId, string nodeId, CancellationToken cancellationToken)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            RemoveScript,
            [keys.ConnectionGroups(connectionId), keys.NodeConnections(nodeId)],
            [connectionId, keys.GroupPrefix, keys.GroupUsersPrefix]).WaitAsync(cancellationToken))!;
        return ((string)result[0]!, [.. result.Skip(1).Select(group => (string)group!)]);
    }
}
