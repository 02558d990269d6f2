using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Contracts;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the SignalRSecure middleware and maps its endpoints and hubs.</summary>
public static class SignalRSecureEndpointExtensions
{
    /// <summary>
    /// Adds the forwarded headers of the configured proxies (<see cref="ProxyOptions"/>), the security headers, the
    /// Origin allow-list and per-IP checks of secure endpoints, CORS for the allowed origins only, and the rate limiter
    /// of the auth endpoints. Call it after routing (a <c>WebApplication</c> routes
    /// first on its own) and before mapping the endpoints.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The application builder.</returns>
    public static IApplicationBuilder UseSignalRSecure(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetRequiredService<IOptions<ProxyOptions>>().Value.IsConfigured)
        {
            // First, so that every limit below counts the client's address, not the proxy's.
            app.UseForwardedHeaders();
        }

        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<SecureEndpointMiddleware>();

        // Browsers apply no CORS to a WebSocket upgrade (SecureEndpointMiddleware has checked its Origin), and the
        // CORS middleware would open a request service scope that a WebSocket request keeps for its whole life.
        app.UseWhen(context => !SecureEndpointMiddleware.IsWebSocketUpgrade(context.Request), cors => cors.UseCors(SignalRSecureServiceCollectionExtensions.CorsPolicy));
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Maps <c>/auth/login</c>, <c>/auth/ticket</c>, <c>/auth/logout</c>, <c>/auth/tickets</c> and <c>/auth/users/{user}/revoke</c>.</summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>A builder to add conventions to all of them.</returns>
    public static IEndpointConventionBuilder MapSignalRSecureAuth(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var auth = endpoints.MapGroup(string.Empty).WithMetadata(new SecureEndpointMetadata(SecureEndpointKind.Auth));
        auth.AddEndpointFilter(AuthEndpointTracing.InvokeAsync);
        auth.AddEndpointFilter(StoreFailureFilter.InvokeAsync);
        auth.MapPost(SecureEndpoints.Login, AuthEndpoints.LoginAsync);
        auth.MapPost(SecureEndpoints.Ticket, AuthEndpoints.IssueForSessionAsync).RequireRateLimiting(AuthEndpoints.RateLimitPolicy);
        auth.MapPost(SecureEndpoints.Logout, AuthEndpoints.LogoutAsync).RequireRateLimiting(AuthEndpoints.RateLimitPolicy);
        auth.MapPost(SecureEndpoints.IssueTicket, AuthEndpoints.IssueForIssuerAsync).RequireRateLimiting(AuthEndpoints.RateLimitPolicy);
        auth.MapPost(string.Format(System.Globalization.CultureInfo.InvariantCulture, SecureEndpoints.RevokeUserFormat, "{user}"), AuthEndpoints.RevokeAsync)
            .RequireRateLimiting(AuthEndpoints.RateLimitPolicy);
        return auth;
    }

    /// <summary>
    /// Maps a hub registered with <c>AddSecureHub</c> behind the gate: the Origin allow-list and per-IP caps at the
    /// door, then a connection that must authenticate with its first message. WebSockets only unless
    /// <see cref="SecureHubOptions.Transports"/> says otherwise; stateful reconnect off.
    /// </summary>
    /// <typeparam name="THub">The hub.</typeparam>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <param name="pattern">The route, for example <c>/hubs/chat</c>.</param>
    /// <returns>A builder to add conventions to the hub's endpoints.</returns>
    public static ConnectionEndpointRouteBuilder MapSecureHub<THub>(this IEndpointRouteBuilder endpoints, string pattern)
        where THub : Hub
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var services = endpoints.ServiceProvider;
        if (services.GetService<HubLifetimeManager<THub>>() is not GatedHubLifetimeManager<THub>)
        {
            throw new InvalidOperationException($"Call services.AddSecureHub<{typeof(THub).Name}>() before mapping it with MapSecureHub.");
        }

        var options = services.GetRequiredService<IOptions<SecureHubOptions>>().Value;
        var gate = services.GetRequiredService<GateConnectionMiddleware>();
        var dispatcherOptions = new HttpConnectionDispatcherOptions
        {
            Transports = options.Transports,
            AllowStatefulReconnects = false,
            TransportSendTimeout = options.SendTimeout,
        };
        var hub = endpoints.MapConnections(pattern, dispatcherOptions, connection =>
        {
            connection.Use(next => context => gate.InvokeAsync(context, next));
            connection.UseHub<THub>();
        });
        hub.Add(endpoint =>
        {
            endpoint.Metadata.Add(new HubMetadata(typeof(THub)));
            endpoint.Metadata.Add(new SecureEndpointMetadata(SecureEndpointKind.Hub));
        });
        return hub;
    }
}
