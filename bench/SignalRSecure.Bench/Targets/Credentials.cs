using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SignalRSecure.Bench.Targets;

/// <summary>
/// Single-use tickets from <c>POST /auth/tickets</c> (G and N), minted before a timed window, and HS256 bearer
/// tokens for B, signed here the way an identity provider would.
/// </summary>
internal sealed class Credentials(Uri baseAddress, string issuerKey) : IDisposable
{
    public const string User = "bench";
    public const string TokenIssuer = "signalrsecure-bench";

    private readonly ConcurrentQueue<string> _tickets = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 16, UseCookies = false })
    {
        BaseAddress = baseAddress,
        DefaultRequestHeaders = { Authorization = new("Bearer", issuerKey) },
    };

    public int Available => _tickets.Count;

    /// <summary>Mints <paramref name="count"/> tickets for the user <c>bench</c>, allowed every group.</summary>
    public async Task MintAsync(int count, CancellationToken cancellationToken)
    {
        var remaining = count;
        var workers = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                using var response = await _http.PostAsJsonAsync("/auth/tickets", new { user = User, groups = new[] { "*" } }, cancellationToken);
                response.EnsureSuccessStatusCode();
                var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
                _tickets.Enqueue(body.GetProperty("ticket").GetString()!);
            }
        });
        await Task.WhenAll(workers);
    }

    public string TakeTicket() =>
        _tickets.TryDequeue(out var ticket) ? ticket : throw new InvalidOperationException("out of pre-minted tickets");

    /// <summary>A JWT for variant B, valid for an hour, signed with <paramref name="key"/>.</summary>
    public static string CreateToken(string key, int serial)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            $$"""{"sub":"{{User}}","iss":"{{TokenIssuer}}","aud":"{{TokenIssuer}}","iat":{{now}},"nbf":{{now}},"exp":{{now + 3600}},"jti":"{{serial}}"}"""));
        var signature = Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    public void Dispose() => _http.Dispose();
}
