using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>How tickets are issued and redeemed. Bound from <see cref="SectionName"/>.</summary>
public sealed class TicketOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Tickets";

    /// <summary>The default of <see cref="Lifetime"/>.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(30);

    /// <summary>The default of <see cref="RequestsPerIpPerMinute"/>.</summary>
    public const int DefaultRequestsPerIpPerMinute = 60;

    /// <summary>The shortest issuer key accepted, in characters.</summary>
    public const int MinimumIssuerKeyLength = 32;

    /// <summary>How long a ticket can be redeemed after it is issued. The default is 30 seconds.</summary>
    public TimeSpan Lifetime { get; set; } = DefaultLifetime;

    /// <summary>
    /// Whether a ticket is redeemable only from the IP address it was issued to. Turn it off only behind NAT that
    /// changes a client's address between requests. The default is true.
    /// </summary>
    public bool BindToClientIp { get; set; } = true;

    /// <summary>
    /// Whether a ticket is redeemable only by a connection whose <c>User-Agent</c> is exactly the one of the request
    /// that got it (compared as a SHA-256 hash; a missing header counts as empty). A ticket copied out of one program
    /// then does not work from another. The issuer endpoint binds only when it is given a <c>userAgent</c>. Both
    /// clients send one stable value on both requests. The default is true.
    /// </summary>
    public bool BindToUserAgent { get; set; } = true;

    /// <summary>
    /// The key a separate auth server presents as a bearer token to <c>POST /auth/tickets</c> and
    /// <c>POST /auth/users/{user}/revoke</c>; at least 32 characters. The default is none: both endpoints answer 404.
    /// </summary>
    public string? IssuerKey { get; set; }

    /// <summary>Requests to the ticket, logout and issuer endpoints per minute from one IP. The default is 60.</summary>
    public int RequestsPerIpPerMinute { get; set; } = DefaultRequestsPerIpPerMinute;
}

internal sealed class TicketOptionsValidator : IValidateOptions<TicketOptions>
{
    public ValidateOptionsResult Validate(string? name, TicketOptions options) =>
        new OptionsErrors(TicketOptions.SectionName)
            .Positive(nameof(options.Lifetime), options.Lifetime, TimeSpan.FromMinutes(10))
            .Positive(nameof(options.RequestsPerIpPerMinute), options.RequestsPerIpPerMinute)
            .Require(options.IssuerKey is null || options.IssuerKey.Length >= TicketOptions.MinimumIssuerKeyLength,
                nameof(options.IssuerKey), $"must be at least {TicketOptions.MinimumIssuerKeyLength} characters")
            .Require(options.IssuerKey is null || IsBearerToken(options.IssuerKey),
                nameof(options.IssuerKey), "must be printable ASCII without spaces (a bearer token)")
            .Result();

    // The whole key must be something an Authorization header can carry: Kestrel trims a header's surrounding
    // whitespace and refuses line breaks, so a key ending in "\n" or " " could never match and only looks valid.
    private static bool IsBearerToken(string key) => key.All(c => c is > ' ' and <= '~');
}
