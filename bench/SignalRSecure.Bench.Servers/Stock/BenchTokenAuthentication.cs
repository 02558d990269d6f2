using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using AuthenticateResult = Microsoft.AspNetCore.Authentication.AuthenticateResult;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Bench.Servers.Stock;

/// <summary>
/// What <c>AddJwtBearer</c> would do for variant B, written out because <c>Microsoft.AspNetCore.Authentication.JwtBearer</c>
/// does not restore from this machine's package source (its <c>Microsoft.IdentityModel.Protocols.OpenIdConnect</c>
/// dependency is missing): validates an HS256-signed JWT (signature, <c>exp</c>, <c>nbf</c> with five minutes of
/// skew, issuer, audience) from the <c>Authorization</c> header or, on the hub path, the <c>access_token</c> query
/// string, and maps <c>sub</c> to the name identifier SignalR uses as the user id.
/// </summary>
internal sealed class BenchTokenHandler(IOptionsMonitor<BenchTokenOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<BenchTokenOptions>(options, logger, encoder)
{
    public const string SchemeName = "BenchToken";

    // JwtBearer's default ClockSkew.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken();
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(Validate(token) is { } principal
            ? AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName))
            : AuthenticateResult.Fail("invalid token"));
    }

    private string? ReadToken()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return header["Bearer ".Length..];
        }

        // The documented SignalR pattern: browsers cannot set headers on a WebSocket upgrade.
        var token = Request.Query["access_token"].ToString();
        return token.Length > 0 && Request.Path.StartsWithSegments(ChatEndpoints.Hub, StringComparison.Ordinal) ? token : null;
    }

    private ClaimsPrincipal? Validate(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            if (!header.RootElement.TryGetProperty("alg", out var alg) || alg.GetString() != "HS256")
            {
                return null;
            }

            var expected = HMACSHA256.HashData(Options.SigningKey, Encoding.ASCII.GetBytes(token.AsSpan(0, parts[0].Length + 1 + parts[1].Length).ToString()));
            if (!CryptographicOperations.FixedTimeEquals(expected, Base64Url.DecodeFromChars(parts[2])))
            {
                return null;
            }

            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var claims = payload.RootElement;
            var now = TimeProvider.GetUtcNow();
            if (!claims.TryGetProperty("exp", out var exp) || DateTimeOffset.FromUnixTimeSeconds(exp.GetInt64()) + ClockSkew <= now
                || (claims.TryGetProperty("nbf", out var nbf) && DateTimeOffset.FromUnixTimeSeconds(nbf.GetInt64()) - ClockSkew > now)
                || !claims.TryGetProperty("iss", out var iss) || iss.GetString() != Options.Issuer
                || !claims.TryGetProperty("aud", out var aud) || aud.GetString() != Options.Audience
                || !claims.TryGetProperty("sub", out var sub) || sub.GetString() is not { Length: > 0 } user)
            {
                return null;
            }

            return new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.NameIdentifier, user), new Claim(ClaimTypes.Name, user)], SchemeName));
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>The key and the expected issuer and audience of variant B's tokens.</summary>
internal sealed class BenchTokenOptions : AuthenticationSchemeOptions
{
    public const string DefaultIssuer = "signalrsecure-bench";

    public byte[] SigningKey { get; set; } = [];

    public string Issuer { get; set; } = DefaultIssuer;

    public string Audience { get; set; } = DefaultIssuer;
}

/// <summary>Registers <see cref="BenchTokenHandler"/> as the default scheme, keyed by <c>Bench:TokenKey</c>.</summary>
internal static class BenchTokenAuthenticationExtensions
{
    public static IServiceCollection AddBenchTokenAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(BenchTokenHandler.SchemeName)
            .AddScheme<BenchTokenOptions, BenchTokenHandler>(BenchTokenHandler.SchemeName, _ => { });
        services.AddOptions<BenchTokenOptions>(BenchTokenHandler.SchemeName).Configure<IConfiguration>((options, configuration) =>
        {
            var key = configuration["Bench:TokenKey"];
            if (string.IsNullOrEmpty(key) || key.Length < 32)
            {
                throw new InvalidOperationException("Bench:TokenKey must be set to 32 characters or more.");
            }

            options.SigningKey = Encoding.UTF8.GetBytes(key);
        });
        return services;
    }
}
