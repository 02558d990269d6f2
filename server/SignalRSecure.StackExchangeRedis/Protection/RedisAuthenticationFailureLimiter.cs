using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Protection;

/// <summary>
/// The failed-authentication lockout counted in Redis for every node, with the rules of the in-memory
/// <see cref="AuthenticationFailureLimiter"/>: one hash per address holds the failures of the current window, the end
/// of a lockout and the attempts in flight, each changed by one Lua script, so that 10 failures split over any nodes
/// lock the address out on all of them, and at most the threshold of tickets are read however the attempts are spread.
/// </summary>
/// <remarks>
/// Times are this node's <see cref="TimeProvider"/> readings, passed to the scripts: the nodes' clocks must agree to
/// well within the window (NTP does). An attempt in flight is a field with a deadline (the authentication timeout), so
/// that the attempts of a node that dies lapse by themselves. An attempt that finds the threshold taken by attempts in
/// flight polls every <see cref="WaitInterval"/> until one settles, where the in-memory limiter is woken at once.
/// </remarks>
internal sealed class RedisAuthenticationFailureLimiter(
    RedisConnection redis, RedisKeys keys, IOptions<ProtectionOptions> protection, IOptions<SecureHubOptions> hub, TimeProvider time)
    : IAuthenticationFailureLimiter
{
    /// <summary>How often an attempt waiting for those in flight asks again.</summary>
    public static readonly TimeSpan WaitInterval = TimeSpan.FromMilliseconds(20);

    // Reads and refreshes the window (as AuthenticationFailureLimiter.Refresh does), counts the attempts in flight and
    // drops the lapsed ones; fail() counts one failure and returns 1 when it starts a lockout. KEYS[1] is the address's
    // hash; ARGV[1..5] are set by EvaluateAsync.
    internal const string Prelude = """
        local key = KEYS[1]
        local now = tonumber(ARGV[1])
        local threshold = tonumber(ARGV[2])
        local window = tonumber(ARGV[3])
        local lockout = tonumber(ARGV[4])
        local ttl = tonumber(ARGV[5])
        local count, start, locked, inflight = 0, 0, 0, 0
        local fields = redis.call('HGETALL', key)
        for i = 1, #fields, 2 do
          local name, value = fields[i], tonumber(fields[i + 1])
          if name == 'count' then count = value
          elseif name == 'start' then start = value
          elseif name == 'locked' then locked = value
          elseif value <= now then redis.call('HDEL', key, name)
          else inflight = inflight + 1 end
        end
        if locked > 0 and locked <= now then
          locked = 0
          count = 0
        elseif count > 0 and now - start >= window then
          count = 0
        end
        local function save()
          redis.call('HSET', key, 'count', count, 'start', start, 'locked', locked)
          redis.call('PEXPIRE', key, ttl)
        end
        local function fail()
          if count == 0 then start = now end
          count = count + 1
          if count < threshold or locked > now then return 0 end
          locked = now + lockout
          return 1
        end

        """;

    // -1: locked out; 1: the attempt (field ARGV[6], deadline ARGV[7]) is in flight; 0: wait for those in flight.
    private const string BeginScript = Prelude + """
        if locked > now then
          save()
          return -1
        end
        if count + inflight < threshold then
          redis.call('HSET', key, 'a:' .. ARGV[6], ARGV[7])
          save()
          return 1
        end
        save()
        return 0
        """;

    // Ends attempt ARGV[6], a failure when ARGV[7] is 1; a clean success with nothing else going on leaves no key.
    private const string EndScript = Prelude + """
        if redis.call('HDEL', key, 'a:' .. ARGV[6]) == 1 then inflight = inflight - 1 end
        local lockedOut = 0
        if ARGV[7] == '1' then lockedOut = fail() end
        if count == 0 and inflight <= 0 and locked == 0 then
          redis.call('DEL', key)
        else
          save()
        end
        return lockedOut
        """;

    private const string RecordScript = Prelude + """
        local lockedOut = fail()
        save()
        return lockedOut
        """;

    public async ValueTask<TimeSpan> GetLockoutAsync(IPAddress? address, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var locked = await database.HashGetAsync(Key(address), "locked").WaitAsync(cancellationToken);
        if (!locked.TryParse(out long until))
        {
            return TimeSpan.Zero;
        }

        var left = until - time.GetUtcNow().ToUnixTimeMilliseconds();
        return left > 0 ? TimeSpan.FromMilliseconds(left) : TimeSpan.Zero;
    }

    public async ValueTask<AuthenticationAttempt?> TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken = default)
    {
        var attempt = new AuthenticationAttempt(address, Guid.NewGuid().ToString("N"));
        while (true)
        {
            var deadline = Now() + (long)hub.Value.AuthenticationTimeout.TotalMilliseconds;
            var outcome = (long)await EvaluateAsync(BeginScript, address, [], cancellationToken, attempt.Id, deadline);
            if (outcome != 0)
            {
                return outcome > 0 ? attempt : null;
            }

            await Task.Delay(WaitInterval, time, cancellationToken);
        }
    }

    public async ValueTask<bool> EndAttemptAsync(AuthenticationAttempt attempt, bool failed, CancellationToken cancellationToken = default) =>
        (long)await EvaluateAsync(EndScript, attempt.Address, [], cancellationToken, attempt.Id, failed ? 1 : 0) == 1;

    public async ValueTask<bool> RecordFailureAsync(IPAddress? address, CancellationToken cancellationToken = default) =>
        (long)await EvaluateAsync(RecordScript, address, [], cancellationToken) == 1;

    /// <summary>
    /// Runs <paramref name="script"/> (which starts with <see cref="Prelude"/>) on the hash of <paramref name="address"/>
    /// (KEYS[1]) and <paramref name="otherKeys"/>, with the lockout's settings as ARGV[1..5] and <paramref name="extra"/> after them.
    /// </summary>
    internal async Task<RedisResult> EvaluateAsync(
        string script, IPAddress? address, RedisKey[] otherKeys, CancellationToken cancellationToken, params RedisValue[] extra)
    {
        var options = protection.Value;
        var longest = options.AuthenticationLockout > options.AuthenticationFailureWindow ? options.AuthenticationLockout : options.AuthenticationFailureWindow;
        RedisValue[] arguments =
        [
            Now(),
            options.AuthenticationFailuresPerIp,
            (long)options.AuthenticationFailureWindow.TotalMilliseconds,
            (long)options.AuthenticationLockout.TotalMilliseconds,

            // The key outlives everything it holds: the window or lockout, and an attempt in flight.
            (long)(longest + hub.Value.AuthenticationTimeout).TotalMilliseconds,
            .. extra,
        ];
        var database = await redis.GetDatabaseAsync(cancellationToken);
        return await database.ScriptEvaluateAsync(script, [Key(address), .. otherKeys], arguments).WaitAsync(cancellationToken);
    }

    private RedisKey Key(IPAddress? address) => keys.AuthenticationFailures(ClientAddress.PartitionKey(address).ToString());

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
