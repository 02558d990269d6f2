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
    public Task InvokeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var http = connection.GetHttpContext();
        var remoteIp = http is null ? null : ClientAddress.RemoteIpOf(http);

        // WebSocket and SSE requests were admitted by SecureEndpointMiddleware, which could still answer 429;
        // long polling connections, whose requests come and go, are admitted here. Either way the gate holds the
        // permits until the connection ends.
        var admission = (http is null ? null : admissions.TakeHandedOver(http)) ?? admissions.TryAdmit(remoteIp);
        if (admission is null)
        {
            metrics.RateLimited("connections");
            ProtectionLog.ConnectionCapRefused(logger, remoteIp);
            connection.Abort();
            return Task.CompletedTask;
        }

        var transport = connection.Transport;
        ConnectionGate gate;
        try
        {
            var origin = http is null ? null : OriginPolicy.RequestOrigin(http.Request);
            var userAgent = http?.Request.Headers.UserAgent.ToString();
            gate = keeper.Open(connection, admission, remoteIp, origin, userAgent);
            connection.Transport = new GatedTransport(new GateReader(transport.Input, gate, keeper.Options), transport);
        }
        catch
        {
            connection.Transport = transport;
            admission.Dispose();
            throw;
        }

        Task application;
        try
        {
            application = next(connection);
        }
        catch (Exception ex)
        {
            application = Task.FromException(ex);
        }

        return EndAfterAsync(application, gate);
    }

    // This frame lives as long as the connection, so it holds only what the end needs: the connection and the transport
    // to put back are the gate's, and the gate gives the admission back as it closes.
    private static async Task EndAfterAsync(Task application, ConnectionGate gate)
    {
        try
        {
            await application;
        }
        finally
        {
            await gate.DisposeAsync().AsTask();
            var connection = gate.Connection;
            if (connection.Transport is GatedTransport gated)
            {
                connection.Transport = gated.Original;
            }
        }
    }
}
