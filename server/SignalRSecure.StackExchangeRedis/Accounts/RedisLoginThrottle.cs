using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Accounts;

/// <summary>
/// The login limits counted in Redis for every node: a fixed window per IP and one per user name, both counted by one
/// Lua script, so that N nodes do not give N times the attempts.
/// </summary>
/// <remarks>
/// As with the chained limiters of the in-memory <see cref="LoginThrottle"/>, an attempt refused per IP is not counted
/// for the user name, and one refused per user name is counted for the IP. A window starts at the first attempt of its
/// key (the in-memory limiters' windows start on a timer of their own): either way an address gets at most twice the
/// limit in any span of one window. Times are this node's <see cref="TimeProvider"/> readings.
/// </remarks>
internal sealed class RedisLoginThrottle(RedisConnection redis, RedisKeys keys, IOptions<LoginOptions> options, TimeProvider time) : ILoginThrottle
{
    // take(key, limit): 0 when counted, else the milliseconds until the key's window ends.
    private const string Script = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local function take(key, limit)
          local fields = redis.call('HMGET', key, 'start', 'count')
          local start = tonumber(fields[1]) or 0
          local count = tonumber(fields[2]) or 0
          if count == 0 or now - start >= window then
            start = now
            count = 0
          end
          if count >= limit then return start + window - now end
          redis.call('HSET', key, 'start', start, 'count', count + 1)
          redis.call('PEXPIRE', key, window)
          return 0
        end
        local wait = take(KEYS[1], tonumber(ARGV[3]))
        if wait > 0 then return wait end
        return take(KEYS[2], tonumber(ARGV[4]))
        """;

    public async ValueTask<(bool Acquired, TimeSpan RetryAfter)> TryAcquireAsync(IPAddress? ip, string? username, CancellationToken cancellationToken = default)
    {
        var value = options.Value;
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var wait = (long)await database.ScriptEvaluateAsync(
            Script,
            [keys.LoginAttemptsByIp(ClientAddress.PartitionKey(ip).ToString()), keys.LoginAttemptsByUser(LoginThrottle.UserKey(username))],
            [time.GetUtcNow().ToUnixTimeMilliseconds(), (long)value.AttemptWindow.TotalMilliseconds, value.AttemptsPerIp, value.AttemptsPerUser])
            .WaitAsync(cancellationToken);
        return wait > 0 ? (false, TimeSpan.FromMilliseconds(wait)) : (true, TimeSpan.Zero);
    }
}
