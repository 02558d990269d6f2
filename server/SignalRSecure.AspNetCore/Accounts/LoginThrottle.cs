using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>
/// The default <see cref="ILoginThrottle"/>: limits login attempts per IP and per user name (existing or not, so that the limit reveals nothing), on the
/// fixed-window limiters of <c>System.Threading.RateLimiting</c>.
/// </summary>
internal sealed class LoginThrottle : ILoginThrottle, IDisposable
{
    // User names longer than this are no names at all; cutting the partition key bounds the limiter's memory.
    private const int MaximumKeyLength = 64;

    private readonly PartitionedRateLimiter<(IPAddress Ip, string User)> _perIp;
    private readonly PartitionedRateLimiter<(IPAddress Ip, string User)> _perUser;
    private readonly PartitionedRateLimiter<(IPAddress Ip, string User)> _limiter;

    public LoginThrottle(IOptions<LoginOptions> options)
    {
        var value = options.Value;
        _perIp = PartitionedRateLimiter.Create<(IPAddress Ip, string User), IPAddress>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key.Ip, _ => Window(value.AttemptsPerIp, value.AttemptWindow)));
        _perUser = PartitionedRateLimiter.Create<(IPAddress Ip, string User), string>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key.User, _ => Window(value.AttemptsPerUser, value.AttemptWindow)));
        _limiter = PartitionedRateLimiter.CreateChained(_perIp, _perUser);
    }

    /// <summary>Counts one attempt; false (with how long to wait) when a limit is reached.</summary>
    public bool TryAcquire(IPAddress? ip, string? username, out TimeSpan retryAfter)
    {
        using var lease = _limiter.AttemptAcquire((ClientAddress.PartitionKey(ip), UserKey(username)));
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        return lease.IsAcquired;
    }

    /// <summary>The name a user's attempts are counted under: lower case, cut to a bounded length.</summary>
    public static string UserKey(string? username)
    {
        var user = (username ?? string.Empty).ToLowerInvariant();
        // Stryker disable once Equality: equivalent, a name of exactly the maximum length cut to that length is itself
        return user.Length > MaximumKeyLength ? user[..MaximumKeyLength] : user;
    }

    ValueTask<(bool Acquired, TimeSpan RetryAfter)> ILoginThrottle.TryAcquireAsync(IPAddress? ip, string? username, CancellationToken cancellationToken) =>
        ValueTask.FromResult((TryAcquire(ip, username, out var retryAfter), retryAfter));

    // Each partitioned limiter runs a timer (every 100 ms) until it is disposed; the chain's Dispose only marks the
    // chain, so the limiters it joins are disposed here too.
    public void Dispose()
    {
        // Stryker disable once Statement: equivalent, the chain's Dispose only marks it disposed; TryAcquire then reaches the limiters disposed below, which throw the same ObjectDisposedException
        _limiter.Dispose();
        _perIp.Dispose();
        _perUser.Dispose();
    }

    // Stryker disable once Boolean: equivalent, the partitioned limiter replenishes partitions that do not replenish themselves (every 100 ms)
    private static FixedWindowRateLimiterOptions Window(int permits, TimeSpan window) =>
        new() { PermitLimit = permits, Window = window, QueueLimit = 0, AutoReplenishment = true };
}
