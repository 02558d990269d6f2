using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
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
    private readonly PartitionedRateLimiter<IPAddress> _unauthenticatedPerIp;
    private readonly PartitionedRateLimiter<IPAddress> _unauthenticatedOverall;
    private readonly PartitionedRateLimiter<IPAddress> _unauthenticated;

    // Admissions on their way from a WebSocket or SSE request to the hub connection it opens. An entry lives from the
    // request's admission until the connection's gate takes it, moments later, so that nothing of the hand-over stays
    // for the connection's life (an entry in the request's feature collection would: 88 bytes).
    private readonly ConcurrentDictionary<HttpContext, Admission> _handedOver = new(ReferenceEqualityComparer.Instance);

    public ConnectionAdmission(IOptions<ProtectionOptions> options)
    {
        var value = options.Value;
        _connections = PartitionedRateLimiter.Create<IPAddress, IPAddress>(ip =>
            RateLimitPartition.GetConcurrencyLimiter(ip, _ => Concurrency(value.MaxConnectionsPerIp)));
        _unauthenticatedPerIp = PartitionedRateLimiter.Create<IPAddress, IPAddress>(ip =>
            RateLimitPartition.GetConcurrencyLimiter(ip, _ => Concurrency(value.MaxUnauthenticatedConnectionsPerIp)));
        // Stryker disable once String: equivalent, the overall limiter has one partition whatever its constant key is
        _unauthenticatedOverall = PartitionedRateLimiter.Create<IPAddress, string>(_ =>
            RateLimitPartition.GetConcurrencyLimiter(string.Empty, _ => Concurrency(value.MaxUnauthenticatedConnections)));
        _unauthenticated = PartitionedRateLimiter.CreateChained(_unauthenticatedPerIp, _unauthenticatedOverall);
    }

    /// <summary>Admits one more connection from <paramref name="address"/>, or returns null when a cap is reached.</summary>
    public Admission? TryAdmit(IPAddress? address)
    {
        var key = ClientAddress.PartitionKey(address);
        var connection = _connections.AttemptAcquire(key);
        if (!connection.IsAcquired)
        {
            // Stryker disable once Statement: equivalent, a refused lease holds no permit (disposed for form)
            connection.Dispose();
            return null;
        }

        var unauthenticated = _unauthenticated.AttemptAcquire(key);
        if (!unauthenticated.IsAcquired)
        {
            // Stryker disable once Statement: equivalent, a refused chained lease holds no permit (the chain gives back what it took)
            unauthenticated.Dispose();
            connection.Dispose();
            return null;
        }

        return new Admission(connection, unauthenticated);
    }

    /// <summary>Leaves <paramref name="admission"/> for the hub connection that <paramref name="request"/> opens.</summary>
    public void HandOver(HttpContext request, Admission admission) => _handedOver[request] = admission;

    /// <summary>
    /// Takes the admission left for the connection that <paramref name="request"/> opens, or null when there is none
    /// (long polling, or the request is over); whoever takes it disposes it.
    /// </summary>
    public Admission? TakeHandedOver(HttpContext request) => _handedOver.TryRemove(request, out var admission) ? admission : null;

    // Each partitioned limiter runs a timer (idle partitions, every 100 ms) until it is disposed; the chain's Dispose
    // only marks the chain, so the limiters it chains are disposed here too.
    public void Dispose()
    {
        _connections.Dispose();
        // Stryker disable once Statement: equivalent, a chained limiter's Dispose only marks it disposed, and TryAdmit reaches it only after _connections, which throws once disposed
        _unauthenticated.Dispose();
        _unauthenticatedPerIp.Dispose();
        _unauthenticatedOverall.Dispose();
    }

    private static ConcurrencyLimiterOptions Concurrency(int permits) =>
        new() { PermitLimit = permits, QueueLimit = 0 };
}
