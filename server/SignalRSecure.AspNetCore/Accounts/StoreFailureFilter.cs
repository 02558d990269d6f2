using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>
/// Answers an auth endpoint whose store (sessions, tickets, the connection registry: shared ones can be down) failed
/// with <c>503</c>, <c>Retry-After</c> and <see cref="HubErrors.Unavailable"/>, never with the store's error text.
/// </summary>
internal static class StoreFailureFilter
{
    /// <summary>The <c>Retry-After</c> of a <c>503</c> for a failed store, in seconds: long enough for a Redis failover.</summary>
    public const int RetryAfterSeconds = 5;

    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        try
        {
            return await next(invocation);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            var logger = context.RequestServices.GetRequiredService<ILogger<AuthEndpoints>>();
            AccountsLog.StoreFailed(logger, context.Connection.RemoteIpAddress, ex);
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await SecureEndpointMiddleware.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, HubErrors.Unavailable);

            // Not null: the endpoint would write a null as JSON after the answer.
            return Results.Empty;
        }
    }
}
