using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>
/// The one connection to Redis that SignalRSecure's stores share, opened on first use and kept open: StackExchange.Redis
/// reconnects by itself when Redis comes back, so a node started while Redis is down recovers without a restart.
/// </summary>
internal sealed class RedisConnection : ISignalRSecureRedisConnection, IAsyncDisposable
{
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;

    /// <summary>Prepares a connection to <paramref name="configuration"/> (a StackExchange.Redis configuration string).</summary>
    public RedisConnection(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);

        // Fail calls while Redis is unreachable instead of failing the connection for good.
        options.AbortOnConnectFail = false;
        _connection = new(async () => await ConnectionMultiplexer.ConnectAsync(options));
    }

    /// <summary>The database, once connected.</summary>
    public async ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken = default) =>
        (await _connection.Value.WaitAsync(cancellationToken)).GetDatabase();

    /// <summary>The connection's subscriber, for the channels nodes talk to each other on.</summary>
    public async ValueTask<ISubscriber> GetSubscriberAsync(CancellationToken cancellationToken = default) =>
        (await _connection.Value.WaitAsync(cancellationToken)).GetSubscriber();

    /// <summary>Whether Redis is known to be unreachable now: connected once, and the connection is down.</summary>
    public bool IsDown => _connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully && !_connection.Value.Result.IsConnected;

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await (await _connection.Value).DisposeAsync();
        }
    }
}
