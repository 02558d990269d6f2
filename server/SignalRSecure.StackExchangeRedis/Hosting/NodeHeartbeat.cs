using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.StackExchangeRedis.Groups;
using SignalRSecure.StackExchangeRedis.Protection;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>
/// Keeps this node listed among the live ones and clears up after the nodes that stopped. Every
/// <see cref="RedisOptions.NodeTimeout"/>/3 the node writes its heartbeat key with a time to live of 5/6 of
/// <see cref="RedisOptions.NodeTimeout"/> (a live node may miss one beat); every NodeTimeout/6 it looks for listed nodes whose heartbeat has expired
/// and, holding a lock key so that one node does it, removes their connections from the group roster (the
/// <see cref="IGroupDepartureObserver"/>s announce the departures, through the hub context and so the backplane, to
/// every node) and their per-user connection counts. A node that stops is out of presence between 5/6 of NodeTimeout and
/// NodeTimeout after its last heartbeat, so within NodeTimeout of stopping. On the same tick it retries removing this
/// node's own connections that closed while Redis was unreachable, and announces those departures the same way.
/// </summary>
/// <remarks>
/// A node that was only cut off from Redis for longer than the timeout finds its heartbeat gone when it writes the next
/// one: the others may have removed its connections' memberships meanwhile, which is logged (<c>NodeHeartbeatLapsed</c>);
/// those clients get <c>not a member</c> and join again. Every clock read is the injected <see cref="TimeProvider"/>.
/// </remarks>
internal sealed class NodeHeartbeat(
    RedisConnection redis,
    RedisKeys keys,
    RedisNode node,
    RedisGroupRoster roster,
    RedisUserLimits userLimits,
    IEnumerable<IGroupDepartureObserver> observers,
    IOptions<RedisOptions> options,
    TimeProvider time,
    ILogger<NodeHeartbeat> logger) : BackgroundService
{
    // SET with GET: whether the heartbeat had lapsed (nil before it); the node is listed only once its key exists.
    private const string BeatScript = """
        local before = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'GET')
        redis.call('SADD', KEYS[2], ARGV[2])
        if before then return 1 end
        return 0
        """;

    private readonly IGroupDepartureObserver[] _observers = [.. observers];
    private bool _beaten;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first heartbeat before the node takes connections, so that none of its entries is ever unlisted; a Redis
        // that is down at start-up only delays it to the next beat.
        try
        {
            await BeatAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            RedisLog.HeartbeatFailed(logger, ex);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeout = options.Value.NodeTimeout;
        using var ticks = new PeriodicTimer(timeout / 6, time);
        var tick = 0L;
        while (await NextTickAsync(ticks, stoppingToken))
        {
            try
            {
                if (++tick % 2 == 0)
                {
                    await BeatAsync(stoppingToken);
                }

                await SweepAsync(stoppingToken);
                await RetryFailedRemovalsAsync(stoppingToken);
                await userLimits.ResyncAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                RedisLog.HeartbeatFailed(logger, ex);
            }
        }
    }

    // Stopping ends the loop normally: a cancellation escaping ExecuteAsync, when the heartbeat alone is stopped, would
    // count as a failed background service and stop the host.
    private static async Task<bool> NextTickAsync(PeriodicTimer ticks, CancellationToken stoppingToken)
    {
        try
        {
            return await ticks.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var wasAlive = (long)await database.ScriptEvaluateAsync(
            BeatScript, [keys.NodeHeartbeat(node.Id), keys.Nodes], [(long)(options.Value.NodeTimeout * 5 / 6).TotalMilliseconds, node.Id])
            .WaitAsync(cancellationToken) == 1;
        if (_beaten && !wasAlive)
        {
            RedisLog.NodeHeartbeatLapsed(logger, options.Value.NodeTimeout);
        }

        _beaten = true;
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        foreach (var member in await database.SetMembersAsync(keys.Nodes).WaitAsync(cancellationToken))
        {
            var other = (string)member!;
            if (other == node.Id || await database.KeyExistsAsync(keys.NodeHeartbeat(other)).WaitAsync(cancellationToken))
            {
                continue;
            }

            // One sweeper per stopped node; if it dies midway, the lock lapses and another one picks up the rest.
            if (await database.StringSetAsync(keys.NodeSweepLock(other), node.Id, options.Value.NodeTimeout, When.NotExists).WaitAsync(cancellationToken))
            {
                await SweepNodeAsync(database, other, cancellationToken);
            }
        }
    }

    private async Task SweepNodeAsync(IDatabase database, string stopped, CancellationToken cancellationToken)
    {
        var connections = await roster.NodeConnectionsAsync(stopped, cancellationToken);
        foreach (var connection in connections)
        {
            await RemoveAndAnnounceAsync(stopped, connection, cancellationToken);
        }

        await database.KeyDeleteAsync(keys.NodeUserConnections(stopped)).WaitAsync(cancellationToken);
        await database.KeyDeleteAsync(keys.NodeConnections(stopped)).WaitAsync(cancellationToken);
        await database.SetRemoveAsync(keys.Nodes, stopped).WaitAsync(cancellationToken);
        RedisLog.NodeSwept(logger, stopped, connections.Count);
    }

    private async Task RetryFailedRemovalsAsync(CancellationToken cancellationToken)
    {
        var failed = roster.TakeFailedRemovals();
        for (var i = 0; i < failed.Count; i++)
        {
            try
            {
                await RemoveAndAnnounceAsync(node.Id, failed[i], cancellationToken);
            }
            catch
            {
                // Still unreachable: this one and the rest wait for the next tick.
                foreach (var connection in failed.Skip(i))
                {
                    roster.RemovalFailed(connection);
                }

                throw;
            }
        }
    }

    /// <summary>Removes a connection its node could not remove, and has the observers announce the groups it left.</summary>
    private async Task RemoveAndAnnounceAsync(string nodeId, string connection, CancellationToken cancellationToken)
    {
        var (user, groupsLeft) = await roster.RemoveNodeConnectionAsync(nodeId, connection, cancellationToken);
        if (user.Length == 0)
        {
            return;
        }

        foreach (var observer in _observers)
        {
            try
            {
                await observer.OnConnectionRemovedAsync(connection, user, groupsLeft, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                RedisLog.DepartureNotAnnounced(logger, connection, ex);
            }
        }
    }
}
