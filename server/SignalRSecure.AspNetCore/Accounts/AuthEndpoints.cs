using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>The handlers of the <c>/auth/*</c> endpoints.</summary>
internal sealed class AuthEndpoints
{
    /// <summary>The rate limiting policy (per IP) of the ticket, logout and issuer endpoints.</summary>
    public const string RateLimitPolicy = "SignalRSecure.Auth";

    // Every auth request body is a handful of short fields.
    private const long MaximumBodySize = 4 * 1024;

    // A ticket request names at most this many groups.
    private const int MaximumGroups = 64;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task LoginAsync(
        HttpContext context, IUserDirectory users, ISessionStore sessions, ILoginThrottle throttle, PasswordVerificationBudget budget,
        SecureHubMetrics metrics, IOptions<LoginOptions> options, TimeProvider time, ILogger<AuthEndpoints> logger)
    {
        var request = await ReadBodyAsync<LoginRequest>(context);
        if (request is null)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid request");
            return;
        }

        var remoteIp = context.Connection.RemoteIpAddress;
        // A shared throttle that fails throws: the store-failure filter answers 503 with Retry-After (fail closed).
        var (acquired, retryAfter) = await throttle.TryAcquireAsync(remoteIp, request.Username, context.RequestAborted);
        if (!acquired)
        {
            AccountsLog.LoginThrottled(logger, remoteIp);
            context.Response.Headers.RetryAfter = Seconds(retryAfter);
            await ErrorAsync(context, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
            return;
        }

        // The whole directory call runs in the budget, so that a directory of the app's own is bounded the same way.
        if (!budget.TryEnqueue(
                cancellationToken => users.VerifyAsync(request.Username, request.Password, cancellationToken),
                context.RequestAborted, out var verification, out var wait))
        {
            metrics.RateLimited("login-verification");
            AccountsLog.LoginVerificationRefused(logger, remoteIp);
            context.Response.Headers.RetryAfter = Seconds(wait);
            await ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, SecureEndpoints.ServerBusy);
            return;
        }

        var account = await verification;
        if (account is null)
        {
            AccountsLog.LoginFailed(logger, LogText.Sanitize(request.Username), remoteIp);
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid credentials");
            return;
        }

        var sessionId = SecretToken.Create();
        var expiresAt = time.GetUtcNow() + options.Value.SessionLifetime;
        await sessions.AddAsync(new LoginSession(SecretToken.Hash(sessionId), account.Name, account.Groups, expiresAt), context.RequestAborted);
        context.Response.Cookies.Append(SessionCookie.Name(context.Request), sessionId, SessionCookie.Options(context.Request, expiresAt));
        AccountsLog.LoginSucceeded(logger, account.Name, remoteIp);
        await context.Response.WriteAsJsonAsync(new LoginResponse(account.Name, account.Groups), Json);
    }

    public static async Task IssueForSessionAsync(HttpContext context, ISessionStore sessions, TicketService tickets, ILogger<AuthEndpoints> logger)
    {
        if (!HasRequestHeader(context.Request))
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, $"missing {SecureEndpoints.RequestHeader} header");
            return;
        }

        var session = await SessionCookie.FindAsync(context, sessions);
        if (session is null)
        {
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, "not signed in");
            return;
        }

        var clientIp = ClientAddress.Normalize(context.Connection.RemoteIpAddress);
        var ticket = await tickets.IssueAsync(
            new TicketGrant(
                session.User, session.Groups, clientIp, OriginPolicy.RequestOrigin(context.Request), session.Key,
                context.Request.Headers.UserAgent.ToString()),
            context.RequestAborted);
        AccountsLog.TicketIssued(logger, session.User, clientIp);
        await context.Response.WriteAsJsonAsync(ticket, Json);
    }

    public static async Task LogoutAsync(
        HttpContext context, ISessionStore sessions, ITicketStore tickets, IUserConnectionRegistry connections, ILogger<AuthEndpoints> logger)
    {
        if (!HasRequestHeader(context.Request))
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, $"missing {SecureEndpoints.RequestHeader} header");
            return;
        }

        var session = await SessionCookie.FindAsync(context, sessions);
        if (session is not null)
        {
            await sessions.RemoveAsync(session.Key, context.RequestAborted);
            await tickets.RevokeSessionAsync(session.Key, context.RequestAborted);
            var closed = await connections.CloseUserConnectionsAsync(session.User, CloseReasons.LoggedOut, context.RequestAborted);
            AccountsLog.LoggedOut(logger, session.User, closed);
        }

        context.Response.Cookies.Delete(SessionCookie.Name(context.Request), SessionCookie.Options(context.Request, expiresAt: null));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    public static async Task IssueForIssuerAsync(HttpContext context, TicketService tickets, IOptions<TicketOptions> options, ILogger<AuthEndpoints> logger)
    {
        if (!await AuthorizeIssuerAsync(context, options.Value, logger))
        {
            return;
        }

        var request = await ReadBodyAsync<IssueTicketRequest>(context);
        string? origin = null;
        IPAddress? clientIp = null;
        if (request is null
            || !GroupNames.IsValid(request.User)
            || request.Groups is null
            || request.Groups.Count > MaximumGroups
            || !request.Groups.All(GroupNames.IsValidPattern)
            || (request.ClientIp is not null && !IPAddress.TryParse(request.ClientIp, out clientIp))
            || (request.Origin is not null && !OriginPolicy.TryNormalize(request.Origin, out origin))
            || (request.UserAgent is not null && request.UserAgent.Any(char.IsControl)))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid request");
            return;
        }

        var normalizedIp = ClientAddress.Normalize(clientIp);
        var ticket = await tickets.IssueAsync(
            new TicketGrant(request.User!, request.Groups.ToArray(), normalizedIp, origin, SessionKey: null, request.UserAgent),
            context.RequestAborted);
        AccountsLog.TicketIssued(logger, request.User!, normalizedIp);
        await context.Response.WriteAsJsonAsync(ticket, Json);
    }

    public static async Task RevokeAsync(
        HttpContext context, string user, ITicketStore tickets, ISessionStore sessions, IUserConnectionRegistry connections,
        IOptions<TicketOptions> options, ILogger<AuthEndpoints> logger)
    {
        if (!await AuthorizeIssuerAsync(context, options.Value, logger))
        {
            return;
        }

        if (!GroupNames.IsValid(user))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid request");
            return;
        }

        await tickets.RevokeUserAsync(user, context.RequestAborted);
        await sessions.RemoveUserAsync(user, context.RequestAborted);
        var closed = await connections.CloseUserConnectionsAsync(user, CloseReasons.Revoked, context.RequestAborted);
        AccountsLog.UserRevoked(logger, user, closed);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task<bool> AuthorizeIssuerAsync(HttpContext context, TicketOptions options, ILogger logger)
    {
        if (options.IssuerKey is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }

        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        // Stryker disable once String: equivalent, a header without the Bearer scheme compares as a string shorter than any valid issuer key (at least 32 characters, checked at start-up)
        var presented = header.StartsWith(scheme, StringComparison.Ordinal) ? header[scheme.Length..] : string.Empty;

        // Hashing both sides first makes the comparison constant-time whatever their lengths.
        if (CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
                SHA256.HashData(Encoding.UTF8.GetBytes(options.IssuerKey))))
        {
            return true;
        }

        AccountsLog.IssuerKeyRejected(logger, LogText.Sanitize(context.Request.Path.Value), context.Connection.RemoteIpAddress);
        await ErrorAsync(context, StatusCodes.Status401Unauthorized, "invalid issuer key");
        return false;
    }

    private static bool HasRequestHeader(HttpRequest request) =>
        request.Headers.TryGetValue(SecureEndpoints.RequestHeader, out var value) && value == SecureEndpoints.RequestHeaderValue;

    private static async Task<T?> ReadBodyAsync<T>(HttpContext context)
        where T : class
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaximumBodySize;
        }

        if (!context.Request.HasJsonContentType() || context.Request.ContentLength > MaximumBodySize)
        {
            return null;
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, Json, context.RequestAborted);
        }
        // Stryker disable once Block: equivalent, an emptied catch returns default(T), which is null
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
        {
            return null;
        }
    }

    private static string Seconds(TimeSpan value) =>
        Math.Max(1, (int)Math.Ceiling(value.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Task ErrorAsync(HttpContext context, int statusCode, string error) =>
        SecureEndpointMiddleware.WriteErrorAsync(context, statusCode, error);
}
