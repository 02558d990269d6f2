using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// Counts hub connections per IP and unauthenticated ones per IP and overall, on the concurrency limiters of
/// <c>System.Threading.RateLimiting</c>: a connection holds its permits until it closes, and gives back the
/// unauthenticated one when it authenticates.
/// </summary>
internal sealed class ConnectionAdmission : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> _connections;
    private readonly PartitionedRateLimiter<IPAddress> _unauthenticated;

    public ConnectionAdmission(IOptions<ProtectionOptions> options)
    {
        var value = options.Value;
        _connections = PartitionedRateLimiter.Create<IPAddress, IPAddress>(ip =>
            RateLimitPartition.GetConcurrencyLimiter(ip, _ => Concurrency(value.MaxConnectionsPerIp)));
        var perIp = PartitionedRateLimiter.Create<IPAddress, IPAddress>(ip =>
            RateLimitPartition.GetConcurrencyLimiter(ip, _ => Concurrency(value.MaxUnauthenticatedConnectionsPerIp)));
        var overall = PartitionedRateLimiter.Create<IPAddress, string>(_ =>
            RateLimitPartition.GetConcurrencyLimiter(string.Empty, _ => Concurrency(value.MaxUnauthenticatedConnections)));
        _unauthenticated = PartitionedRateLimiter.CreateChained(perIp, overall);
    }

    /// <summary>Admits one more connection from <paramref name="address"/>, or returns null when a cap is reached.</summary>
    public Admission? TryAdmit(IPAddress? address)
    {
        var key = ClientAddress.PartitionKey(address);
        var connection = _connections.AttemptAcquire(key);
        if (!connection.IsAcquired)
        {
            connection.Dispose();
            return null;
        }

        var unauthenticated = _unauthenticated.AttemptAcquire(key);
        if (!unauthenticated.IsAcquired)
        {
            unauthenticated.Dispose();
            connection.Dispose();
            return null;
        }

        return new Admission(connection, unauthenticated);
    }

    public void Dispose()
    {
        _connections.Dispose();
        _unauthenticated.Dispose();
    }

    private static ConcurrencyLimiterOptions Concurrency(int permits) =>
        new() { PermitLimit = permits, QueueLimit = 0 };
}
