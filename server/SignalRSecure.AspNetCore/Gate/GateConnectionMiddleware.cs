using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Runs in front of SignalR for every connection of a secure hub: admits it under the per-IP caps (unless the HTTP
/// layer already did), opens its <see cref="ConnectionGate"/> and puts the <see cref="GateReader"/>
/// between the transport and SignalR.
/// </summary>
internal sealed class GateConnectionMiddleware(
    GateKeeper keeper,
    ConnectionAdmission admissions,
    SecureHubMetrics metrics,
    ILogger<GateConnectionMiddleware> logger)
{
    public async Task InvokeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var http = connection.GetHttpContext();
        var remoteIp = http is null ? null : ClientAddress.RemoteIpOf(http);

        // WebSocket and SSE requests were admitted by SecureEndpointMiddleware, which could still answer 429;
        // long polling connections, whose requests come and go, are admitted here.
        var admission = http?.Features.Get<Admission>();
        var ownsAdmission = admission is null;
        admission ??= admissions.TryAdmit(remoteIp);
        if (admission is null)
        {
            metrics.RateLimited("connections");
            ProtectionLog.ConnectionCapRefused(logger, remoteIp);
            connection.Abort();
            return;
        }

        var transport = connection.Transport;
        var origin = http is null ? null : OriginPolicy.RequestOrigin(http.Request);
        var userAgent = http?.Request.Headers.UserAgent.ToString();
        try
        {
            await using var gate = keeper.Open(connection, admission, remoteIp, origin, userAgent);
            connection.Transport = new GatedTransport(new GateReader(transport.Input, gate, keeper.Options), transport.Output);
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
            if (ownsAdmission)
            {
                admission.Dispose();
            }
        }
    }
}
