using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Protection;

/// <summary>
/// The per-user limits counted in Redis for every node. Connections: each node keeps a hash of its users' connection
/// counts (<see cref="RedisKeys.NodeUserConnections"/>), and a Lua script adds one only while the sum over the live
/// nodes stays below the cap; a stopped node's hash goes with its heartbeat (<see cref="NodeHeartbeat"/>). Invocations:
/// a token bucket per user, from which a node takes <see cref="RedisOptions.UserInvocationLease"/> at a time.
/// </summary>
/// <remarks>
/// A removal that fails (Redis down as a connection closes) would leave the count too high: the node remembers the
/// user, and its heartbeat writes the node's true count back once Redis answers. While Redis is unreachable the lease
/// answers null at once, so established connections keep to their node's own budget without waiting for a timeout.
/// Times are this node's <see cref="TimeProvider"/> readings.
/// </remarks>
internal sealed class RedisUserLimits(
    RedisConnection redis, RedisKeys keys, RedisNode node, IOptions<RedisOptions> redisOptions, IOptions<SecureHubOptions> hub, TimeProvider time)
    : ISharedUserLimits
{
    // The sum of the user's counts on every listed node, this one's included even before its first heartbeat lists it.
    private const string AddScript = """
        local user, maximum, me, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
        local total = tonumber(redis.call('HGET', KEYS[2], user)) or 0
        for _, other in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if other ~= me then total = total + (tonumber(redis.call('HGET', prefix .. other, user)) or 0) end
        end
        if total >= maximum then return 0 end
        redis.call('HINCRBY', KEYS[2], user, 1)
        return 1
        """;

    private const string RemoveScript = """
        if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 1
        """;

    // A token bucket refilled from the time of its last use; takes up to the lease, as many as there are.
    private const string LeaseScript = """
        local now, perSecond, burst, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local fields = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(fields[1]), tonumber(fields[2])
        if tokens == nil or at == nil then
          tokens, at = burst, now
        elseif now > at then
          tokens = math.min(burst, tokens + (now - at) * perSecond / 1000)
          at = now
        end
        local granted = math.max(0, math.min(lease, math.floor(tokens)))
        tokens = tokens - granted
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', at)
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / perSecond) + 1000)
        return granted
        """;

    private readonly ConcurrentDictionary<string, int> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _unsynced = new(StringComparer.Ordinal);

    public bool IsShared => true;

    public async ValueTask<bool> TryAddConnectionAsync(string user, int maximum, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var added = (long)await database.ScriptEvaluateAsync(
            AddScript, [keys.Nodes, keys.NodeUserConnections(node.Id)], [user, maximum, node.Id, keys.NodeUserConnectionsPrefix])
            .WaitAsync(cancellationToken) == 1;
        if (added)
        {
            _connections.AddOrUpdate(user, 1, static (_, count) => count + 1);
        }

        return added;
    }

    public async ValueTask RemoveConnectionAsync(string user, CancellationToken cancellationToken = default)
    {
        Forget(user);
        try
        {
            var database = await redis.GetDatabaseAsync(cancellationToken);
            await database.ScriptEvaluateAsync(RemoveScript, [keys.NodeUserConnections(node.Id)], [user]).WaitAsync(cancellationToken);
        }
        catch
        {
            _unsynced.TryAdd(user, 0);
            throw;
        }
    }

    public async ValueTask<int?> LeaseInvocationsAsync(string user, CancellationToken cancellationToken = default)
    {
        if (redis.IsDown)
        {
            return null;
        }

        var options = hub.Value;
        var database = await redis.GetDatabaseAsync(cancellationToken);
        return (int)(long)await database.ScriptEvaluateAsync(
            LeaseScript,
            [keys.UserInvocations(user)],
            [time.GetUtcNow().ToUnixTimeMilliseconds(), options.UserInvocationsPerSecond, options.UserInvocationBurst, redisOptions.Value.UserInvocationLease])
            .WaitAsync(cancellationToken);
    }

    /// <summary>Writes this node's true counts of the users whose removal failed; called by the heartbeat.</summary>
    public async Task ResyncAsync(CancellationToken cancellationToken = default)
    {
        if (_unsynced.IsEmpty)
        {
            return;
        }

        var database = await redis.GetDatabaseAsync(cancellationToken);
        foreach (var user in _unsynced.Keys)
        {
            _unsynced.TryRemove(user, out _);
            try
            {
                var key = keys.NodeUserConnections(node.Id);
                await (_connections.TryGetValue(user, out var count) && count > 0
                    ? database.HashSetAsync(key, user, count)
                    : database.HashDeleteAsync(key, user)).WaitAsync(cancellationToken);
            }
            catch
            {
                _unsynced.TryAdd(user, 0);
                throw;
            }
        }
    }

    private void Forget(string user)
    {
        while (_connections.TryGetValue(user, out var count))
        {
            if (count <= 1 ? _connections.TryRemove(new KeyValuePair<string, int>(user, count)) : _connections.TryUpdate(user, count - 1, count))
            {
                return;
            }
        }
    }
}
