using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// Gets tickets the way a signed-in user does: <c>POST /auth/login</c> sets a session cookie in this object's own cookie
/// jar, and each <c>POST /auth/ticket</c> (with the <c>X-SignalRSecure</c> header) turns it into a fresh ticket. Pass
/// <see cref="GetTicketAsync"/> to <see cref="SecureHubClient"/> as its <see cref="TicketProvider"/>.
/// </summary>
public sealed class CookieTicketSource : IDisposable
{
    /// <summary>The default of the request timeout.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(15);

    private readonly HttpClient _http;
    private readonly SemaphoreSlim _signIn = new(1, 1);
    private NetworkCredential? _keptCredentials;

    /// <summary>Creates a ticket source with an empty cookie jar.</summary>
    /// <param name="serverUrl">The server, such as <c>https://chat.example.com</c>.</param>
    /// <param name="origin">
    /// The <c>Origin</c> to send, for a client acting for a browser page; a ticket issued to an origin is redeemable only
    /// by a connection from it. The default is none, as for any non-browser client.
    /// </param>
    /// <param name="requestTimeout">How long one request may take. The default is <see cref="DefaultRequestTimeout"/>.</param>
    public CookieTicketSource(Uri serverUrl, string? origin = null, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(serverUrl);
        if (!serverUrl.IsAbsoluteUri || serverUrl.Scheme is not ("http" or "https") || serverUrl.UserInfo.Length != 0)
        {
            throw new ArgumentException("The server address must be an absolute http or https address without user information.", nameof(serverUrl));
        }

        Cookies = new CookieContainer();
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = serverUrl,
            Timeout = requestTimeout ?? DefaultRequestTimeout,
        };

        // Without validation, so the bytes are exactly those the hub's WebSocket request sends: the ticket is bound to them.
        _http.DefaultRequestHeaders.TryAddWithoutValidation(ClientUserAgent.HeaderName, ClientUserAgent.Value);
        if (origin is not null)
        {
            _http.DefaultRequestHeaders.Add("Origin", origin);
        }
    }

    /// <summary>The cookie jar holding the session cookie.</summary>
    public CookieContainer Cookies { get; }

    /// <summary>Signs in, which stores the session cookie.</summary>
    /// <param name="username">The user name.</param>
    /// <param name="password">The password; sent once, never logged nor put in an exception.</param>
    /// <param name="keepCredentials">
    /// Keep the user name and password in memory to sign in again when the server no longer knows the session (it
    /// restarted, or the login session expired), so that reconnecting keeps working. The password then lives as long as
    /// this object, or until <see cref="SignOutAsync"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The user and the groups the user may join.</returns>
    /// <exception cref="AuthRequestException"><see cref="AuthRequestFailure.InvalidCredentials"/>, <see cref="AuthRequestFailure.RateLimited"/>, <see cref="AuthRequestFailure.ServerBusy"/> or another refusal.</exception>
    public async Task<LoginResponse> SignInAsync(string username, string password, bool keepCredentials = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        var response = await SignInCoreAsync(username, password, cancellationToken).ConfigureAwait(false);
        _keptCredentials = keepCredentials ? new NetworkCredential(username, password) : null;
        return response;
    }

    /// <summary>
    /// Gets a fresh single-use ticket for the session in the cookie jar, signing in again first if credentials were
    /// kept and the server no longer knows the session.
    /// </summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The ticket: pass it to the hub and nowhere else.</returns>
    /// <exception cref="AuthRequestException"><see cref="AuthRequestFailure.NotSignedIn"/>, <see cref="AuthRequestFailure.Forbidden"/>, <see cref="AuthRequestFailure.RateLimited"/> or another refusal.</exception>
    public async Task<string> GetTicketAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await RequestTicketAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (AuthRequestException ex) when (ex.Failure == AuthRequestFailure.NotSignedIn && _keptCredentials is { } credentials)
        {
            await SignInCoreAsync(credentials.UserName, credentials.Password, cancellationToken).ConfigureAwait(false);
            return await RequestTicketAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Signs out: the server ends the session, revokes its unused tickets and closes the user's hub connections with
    /// <c>logged out</c>. Forgets kept credentials.
    /// </summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server has answered.</returns>
    /// <exception cref="AuthRequestException">The server refused the request.</exception>
    public async Task SignOutAsync(CancellationToken cancellationToken = default)
    {
        _keptCredentials = null;
        using var response = await PostAsync(SecureEndpoints.Logout, content: null, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(SecureEndpoints.Logout, response);
    }

    /// <summary>Releases the HTTP client and forgets kept credentials.</summary>
    public void Dispose()
    {
        _keptCredentials = null;
        _http.Dispose();
        _signIn.Dispose();
    }

    private static void EnsureSuccess(string path, HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var failure = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when path == SecureEndpoints.Login => AuthRequestFailure.InvalidCredentials,
            HttpStatusCode.Unauthorized => AuthRequestFailure.NotSignedIn,
            HttpStatusCode.Forbidden => AuthRequestFailure.Forbidden,
            HttpStatusCode.TooManyRequests => AuthRequestFailure.RateLimited,
            HttpStatusCode.ServiceUnavailable when path == SecureEndpoints.Login => AuthRequestFailure.ServerBusy,
            _ => AuthRequestFailure.Unexpected,
        };
        throw new AuthRequestException(path, response.StatusCode, failure, RetryAfter(response.Headers.RetryAfter));
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow > TimeSpan.Zero ? date - DateTimeOffset.UtcNow : TimeSpan.Zero,
        _ => null,
    };

    private async Task<LoginResponse> SignInCoreAsync(string username, string password, CancellationToken cancellationToken)
    {
        // One sign-in at a time: concurrent renewals must not each spend a login attempt of the per-user limit.
        await _signIn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var response = await PostAsync(SecureEndpoints.Login, JsonContent.Create(new LoginRequest(username, password)), cancellationToken).ConfigureAwait(false);
            EnsureSuccess(SecureEndpoints.Login, response);
            return await response.Content.ReadFromJsonAsync<LoginResponse>(cancellationToken).ConfigureAwait(false)
                ?? throw new AuthRequestException(SecureEndpoints.Login, response.StatusCode, AuthRequestFailure.Unexpected);
        }
        finally
        {
            _signIn.Release();
        }
    }

    private async Task<string> RequestTicketAsync(CancellationToken cancellationToken)
    {
        using var response = await PostAsync(SecureEndpoints.Ticket, content: null, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(SecureEndpoints.Ticket, response);
        var ticket = await response.Content.ReadFromJsonAsync<TicketResponse>(cancellationToken).ConfigureAwait(false);
        return ticket?.Ticket ?? throw new AuthRequestException(SecureEndpoints.Ticket, response.StatusCode, AuthRequestFailure.Unexpected);
    }

    private async Task<HttpResponseMessage> PostAsync(string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add(SecureEndpoints.RequestHeader, SecureEndpoints.RequestHeaderValue);
        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
