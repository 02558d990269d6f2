using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>An HTTP client of the auth endpoints with its own cookie jar and, optionally, a browser Origin.</summary>
public sealed class AuthClient : IDisposable
{
    private readonly HttpClient _http;

    public AuthClient(Uri baseAddress, string? origin = null, IPAddress? from = null)
    {
        Cookies = new CookieContainer();
        HttpMessageHandler handler = from is null
            ? new HttpClientHandler { CookieContainer = Cookies, UseCookies = true }
            : LoopbackAddress.HandlerFrom(from, Cookies);
        _http = new HttpClient(handler)
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(10),
        };
        if (origin is not null)
        {
            _http.DefaultRequestHeaders.Add("Origin", origin);
        }
    }

    public CookieContainer Cookies { get; }

    public HttpClient Http => _http;

    public Task<HttpResponseMessage> TryLoginAsync(string username, string password) =>
        _http.PostAsJsonAsync(SecureEndpoints.Login, new LoginRequest(username, password));

    public async Task<LoginResponse> LoginAsync(TestUser user)
    {
        using var response = await TryLoginAsync(user.Name, user.Password);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<LoginResponse>())!;
    }

    public Task<HttpResponseMessage> TryGetTicketAsync(bool withHeader = true) => PostAsync(SecureEndpoints.Ticket, withHeader);

    public async Task<TicketResponse> GetTicketAsync()
    {
        using var response = await TryGetTicketAsync();
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketResponse>())!;
    }

    public Task<HttpResponseMessage> LogoutAsync(bool withHeader = true) => PostAsync(SecureEndpoints.Logout, withHeader);

    public Task<HttpResponseMessage> IssueTicketAsync(IssueTicketRequest request, string? issuerKey = SecureServer.IssuerKey)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, SecureEndpoints.IssueTicket) { Content = JsonContent.Create(request) };
        if (issuerKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", issuerKey);
        }

        return _http.SendAsync(message);
    }

    public Task<HttpResponseMessage> RevokeAsync(string user, string? issuerKey = SecureServer.IssuerKey)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, string.Format(System.Globalization.CultureInfo.InvariantCulture, SecureEndpoints.RevokeUserFormat, user));
        if (issuerKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", issuerKey);
        }

        return _http.SendAsync(message);
    }

    public void Dispose() => _http.Dispose();

    private Task<HttpResponseMessage> PostAsync(string path, bool withHeader)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path);
        if (withHeader)
        {
            message.Headers.Add(SecureEndpoints.RequestHeader, SecureEndpoints.RequestHeaderValue);
        }

        return _http.SendAsync(message);
    }
}
