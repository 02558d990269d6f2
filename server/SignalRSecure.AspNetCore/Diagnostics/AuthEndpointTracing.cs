using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace SignalRSecure.AspNetCore.Diagnostics;

/// <summary>
/// The endpoint filter that traces each auth endpoint request as <c>signalrsecure.&lt;endpoint&gt;</c>, with the answer's
/// status code as its outcome. Outermost on the auth endpoints, so that refusals by the filters inside it are traced too.
/// </summary>
internal static class AuthEndpointTracing
{
    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        // The name is built from the route: not for a request nobody traces.
        if (!SecureHubTracing.Source.HasListeners())
        {
            return await next(invocation);
        }

        var context = invocation.HttpContext;
        using var activity = SecureHubTracing.Source.StartActivity(ActivityName(context), ActivityKind.Internal);
        if (activity is null)
        {
            return await next(invocation);
        }

        activity.SetTag("client.address", context.Connection.RemoteIpAddress?.ToString());
        try
        {
            var result = await next(invocation);
            var status = context.Response.StatusCode;
            activity.SetTag("http.response.status_code", status);
            SecureHubTracing.SetOutcome(activity, status < 400 ? SecureHubTracing.OkOutcome : status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return result;
        }
        catch (Exception ex)
        {
            // The type only: an exception's message may quote what the request sent.
            SecureHubTracing.SetOutcome(activity, ex.GetType().Name);
            throw;
        }
    }

    // "/auth/login" -> "signalrsecure.login", "/auth/users/{user}/revoke" -> "signalrsecure.users.revoke": the route, never the user.
    private static string ActivityName(HttpContext context)
    {
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? string.Empty;
        var segments = route.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != "auth" && !s.StartsWith('{'));
        return "signalrsecure." + string.Join('.', segments);
    }
}
