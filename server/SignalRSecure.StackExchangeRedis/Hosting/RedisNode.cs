namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>This node among those sharing the Redis: a random id for its process's lifetime.</summary>
internal sealed class RedisNode
{
    /// <summary>The node's id, 32 hexadecimal digits.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");
}
