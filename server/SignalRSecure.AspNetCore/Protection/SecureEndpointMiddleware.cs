using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// Guards the routes marked with <see cref="SecureEndpointMetadata"/> before they run: a disallowed <c>Origin</c>
/// gets 403 (on negotiate, on the WebSocket upgrade, which may skip negotiate, and on the auth endpoints), and a
/// hub connection from a locked-out IP or over a connection cap gets 429, all before any 101. New hub connections
/// then wait for their turn under the global rate of new connections. A negotiation, which makes SignalR create a
/// connection too, passes the same checks and the per-IP rate of negotiations before SignalR sees it.
/// </summary>
internal sealed class SecureEndpointMiddleware(
    RequestDelegate next,
    IOptions<ProtectionOptions> options,
    OriginPolicy origins,
    ConnectionAdmission admissions,
    NewConnectionPace pace,
    NegotiationLimiter negotiations,
    IAuthenticationFailureLimiter failures,
    SecureHubMetrics metrics,
    ILogger<SecureEndpointMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var marker = endpoint?.Metadata.GetMetadata<SecureEndpointMetadata>();
        if (marker is null)
        {
            return next(context);
        }

        // A WebSocket or SSE request lasts as long as its connection: only a small frame that holds its permits waits
        // for its end, not the frame of every check it passed.
        var admitted = CheckAsync(context, endpoint!, marker);
        if (!admitted.IsCompletedSuccessfully)
        {
            return HoldAfterCheckAsync(admitted, context);
        }

        return admitted.Result is { } ? HoldAsync(Next(context), context) : Task.CompletedTask;
    }

    /// <summary>
    /// Runs the checks, and the rest of the pipeline for every request but an admitted WebSocket or SSE request,
    /// whose permits it returns instead: the caller runs the pipeline holding them.
    /// </summary>
    private async ValueTask<Admission?> CheckAsync(HttpContext context, Endpoint endpoint, SecureEndpointMetadata marker)
    {
        var remoteIp = ClientAddress.RemoteIpOf(context);
        if (!origins.IsAllowed(context.Request))
        {
            ProtectionLog.OriginRefused(logger, LogText.Sanitize(context.Request.Path.Value), remoteIp, LogText.Sanitize(context.Request.Headers.Origin.ToString()));
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, "origin not allowed");
            return null;
        }

        context.Response.Headers.CacheControl = "no-store";
        if (marker.Kind != SecureEndpointKind.Hub)
        {
            await next(context);
            return null;
        }

        if (HasOversizedWebSocketHeader(context.Request))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid request");
            return null;
        }

        var retryAfter = await LockoutOfAsync(remoteIp, context.RequestAborted);
        if (retryAfter > TimeSpan.Zero)
        {
            metrics.RateLimited("lockout");
            ProtectionLog.LockedOutConnectionRefused(logger, remoteIp);
            await WriteTooManyAsync(context, retryAfter);
            return null;
        }

        if (HttpMethods.IsPost(context.Request.Method) && endpoint.Metadata.GetMetadata<NegotiateMetadata>() is not null)
        {
            await NegotiateAsync(context, remoteIp);
            return null;
        }

        if (!IsLongLivedTransportRequest(context.Request))
        {
            await next(context);
            return null;
        }

        // A WebSocket or SSE request lasts as long as its connection, so its permits are held for the request.
        var admission = admissions.TryAdmit(remoteIp);
        if (admission is null)
        {
            await RefuseOverConnectionCapAsync(context, remoteIp);
            return null;
        }

        try
        {
            if (!await pace.WaitForTurnAsync(context.RequestAborted))
            {
                admission.Dispose();
                await RefuseQueueFullAsync(context, remoteIp);
                return null;
            }
        }
        catch
        {
            admission.Dispose();
            throw;
        }

        admissions.HandOver(context, admission);
        return admission;
    }

    // Only when the checks had to wait (a lockout read from a shared store, the pace of new connections): this frame
    // then lives as long as the request too.
    private async Task HoldAfterCheckAsync(ValueTask<Admission?> admitted, HttpContext context)
    {
        if (await admitted is not null)
        {
            await HoldAsync(Next(context), context);
        }
    }

    // The frame that lives as long as a WebSocket or SSE request. The connection's gate takes the permits and gives
    // them back when the connection ends; a request that never opened a connection (SignalR refused it) gives them
    // back here.
    private async Task HoldAsync(Task rest, HttpContext context)
    {
        try
        {
            await rest;
        }
        finally
        {
            admissions.TakeHandedOver(context)?.Dispose();
        }
    }

    // A middleware that throws before its first await still has the permits given back by HoldAsync.
    private Task Next(HttpContext context)
    {
        try
        {
            return next(context);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    // SignalR keeps the connection a negotiation creates (pipes included) for its disconnect timeout whether or not the
    // client ever connects, so a negotiation is a new connection: limited per address, refused from an address at its
    // connection caps, and paced with the upgrades. The per-address rate comes first, so that a flood from an address
    // at its caps is refused without a log record each.
    private async Task NegotiateAsync(HttpContext context, IPAddress? remoteIp)
    {
        if (!negotiations.TryTake(remoteIp, out var retryAfter, out var shouldLog))
        {
            metrics.RateLimited("negotiate");
            if (shouldLog)
            {
                ProtectionLog.NegotiationRateLimited(logger, remoteIp);
            }

            await WriteTooManyAsync(context, retryAfter);
            return;
        }

        // Its connection would be refused at the upgrade anyway; the negotiation taken is not given back.
        using (var admission = admissions.TryAdmit(remoteIp))
        {
            if (admission is null)
            {
                await RefuseOverConnectionCapAsync(context, remoteIp);
                return;
            }
        }

        if (!await pace.WaitForTurnAsync(context.RequestAborted))
        {
            // Refused for everyone's sake, not the address's: it keeps its negotiation.
            negotiations.Return(remoteIp);
            await RefuseQueueFullAsync(context, remoteIp);
            return;
        }

        await next(context);
    }

    // A shared lockout that cannot be read lets the connection in: its Authenticate, which must begin an attempt in
    // the same store, fails closed. Refusing here instead would turn every Redis blip into 429s for every address.
    private async ValueTask<TimeSpan> LockoutOfAsync(IPAddress? remoteIp, CancellationToken cancellationToken)
    {
        try
        {
            return await failures.GetLockoutAsync(remoteIp, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            ProtectionLog.LockoutCheckFailed(logger, remoteIp, ex);
            return TimeSpan.Zero;
        }
    }

    private Task RefuseOverConnectionCapAsync(HttpContext context, IPAddress? remoteIp)
    {
        metrics.RateLimited("connections");
        ProtectionLog.ConnectionCapRefused(logger, remoteIp);
        return WriteTooManyAsync(context, TimeSpan.FromSeconds(1));
    }

    private Task RefuseQueueFullAsync(HttpContext context, IPAddress? remoteIp)
    {
        metrics.RateLimited("new-connections");
        ProtectionLog.NewConnectionQueueFull(logger, remoteIp);
        return WriteTooManyAsync(context, TimeSpan.FromSeconds(1));
    }

    private bool HasOversizedWebSocketHeader(HttpRequest request) =>
        request.Headers.SecWebSocketProtocol.ToString().Length > options.Value.MaxWebSocketHeaderLength
        || request.Headers.SecWebSocketExtensions.ToString().Length > options.Value.MaxWebSocketHeaderLength;

    // Read from the headers: the WebSocket feature that would answer this is only added inside the hub's endpoint.
    internal static bool IsWebSocketUpgrade(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) && request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
        || request.HttpContext.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    private static bool IsLongLivedTransportRequest(HttpRequest request) =>
        IsWebSocketUpgrade(request)
        || (HttpMethods.IsGet(request.Method) && request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase));

    private static Task WriteTooManyAsync(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
    }

    internal static Task WriteErrorAsync(HttpContext context, int statusCode, string error)
    {
        context.Response.StatusCode = statusCode;
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        return context.Response.WriteAsJsonAsync(new ErrorResponse(error));
    }
}
