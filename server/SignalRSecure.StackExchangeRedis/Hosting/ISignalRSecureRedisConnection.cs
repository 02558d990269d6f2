using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>
/// The connection to Redis that <c>AddSignalRSecureRedis</c> opens and its stores share, for an app that keeps data of
/// its own next to them (under <see cref="RedisOptions.ChannelPrefix"/>, so that deployments sharing a Redis stay apart).
/// </summary>
public interface ISignalRSecureRedisConnection
{
    /// <summary>The database, once connected; while Redis is unreachable, commands on it fail (they do not hang).</summary>
    /// <param name="cancellationToken">Cancels waiting for the first connection.</param>
    /// <returns>The database.</returns>
    ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken = default);
}
