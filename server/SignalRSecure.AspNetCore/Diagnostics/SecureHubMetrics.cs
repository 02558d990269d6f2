using System.Diagnostics.Metrics;

namespace SignalRSecure.AspNetCore.Diagnostics;

/// <summary>
/// The server's instruments on the meter <see cref="MeterName"/>; read them with
/// <c>dotnet-counters monitor --counters SignalRSecure</c>.
/// </summary>
public sealed class SecureHubMetrics
{
    /// <summary>The name of the meter every SignalRSecure instrument belongs to.</summary>
    public const string MeterName = "SignalRSecure";

    private readonly UpDownCounter<long> _pendingConnections;
    private readonly UpDownCounter<long> _authenticatedConnections;
    private readonly Counter<long> _authenticationFailures;
    private readonly Counter<long> _authenticationTimeouts;
    private readonly Counter<long> _rateLimitRejections;
    private readonly Counter<long> _protocolViolations;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public SecureHubMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _pendingConnections = meter.CreateUpDownCounter<long>(
            "signalrsecure.connections.pending", "{connection}", "Hub connections that have not authenticated yet.");
        _authenticatedConnections = meter.CreateUpDownCounter<long>(
            "signalrsecure.connections.authenticated", "{connection}", "Authenticated hub connections.");
        _authenticationFailures = meter.CreateCounter<long>(
            "signalrsecure.authentication.failures", "{failure}", "Refused tickets, by reason.");
        _authenticationTimeouts = meter.CreateCounter<long>(
            "signalrsecure.authentication.timeouts", "{connection}", "Connections closed for not authenticating in time.");
        _rateLimitRejections = meter.CreateCounter<long>(
            "signalrsecure.ratelimit.rejections", "{rejection}", "Requests, connections, invocations and messages refused by a limit, by limit.");
        _protocolViolations = meter.CreateCounter<long>(
            "signalrsecure.protocol.violations", "{connection}", "Connections closed by the gate for what they sent, by close reason.");
    }

    internal void ConnectionOpened() => _pendingConnections.Add(1);

    internal void PendingConnectionClosed() => _pendingConnections.Add(-1);

    internal void ConnectionAuthenticated()
    {
        _pendingConnections.Add(-1);
        _authenticatedConnections.Add(1);
    }

    internal void AuthenticatedConnectionClosed() => _authenticatedConnections.Add(-1);

    internal void AuthenticationFailed(string reason) =>
        _authenticationFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void AuthenticationTimedOut() => _authenticationTimeouts.Add(1);

    internal void ProtocolViolation(string closeReason) =>
        _protocolViolations.Add(1, new KeyValuePair<string, object?>("reason", closeReason));

    internal void RateLimited(string limit) =>
        _rateLimitRejections.Add(1, new KeyValuePair<string, object?>("limit", limit));
}
