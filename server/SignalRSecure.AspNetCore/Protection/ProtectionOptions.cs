using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// Origin allow-list and per-IP limits of the hub and the auth endpoints. Bound from <see cref="SectionName"/>.
/// </summary>
public sealed class ProtectionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Protection";

    /// <summary>The default of <see cref="MaxConnectionsPerIp"/>.</summary>
    public const int DefaultMaxConnectionsPerIp = 200;

    /// <summary>The default of <see cref="MaxConnectionsPerUser"/>.</summary>
    public const int DefaultMaxConnectionsPerUser = 20;

    /// <summary>The default of <see cref="MaxUnauthenticatedConnectionsPerIp"/>.</summary>
    public const int DefaultMaxUnauthenticatedConnectionsPerIp = 20;

    /// <summary>The default of <see cref="MaxUnauthenticatedConnections"/>.</summary>
    public const int DefaultMaxUnauthenticatedConnections = 5_000;

    /// <summary>The default of <see cref="NewConnectionsPerSecond"/>.</summary>
    public const int DefaultNewConnectionsPerSecond = 1_000;

    /// <summary>The default of <see cref="NewConnectionBurst"/>.</summary>
    public const int DefaultNewConnectionBurst = 100;

    /// <summary>The default of <see cref="NewConnectionQueueLimit"/>.</summary>
    public const int DefaultNewConnectionQueueLimit = 2_000;

    /// <summary>The default of <see cref="NegotiationsPerIpPerMinute"/>.</summary>
    public const int DefaultNegotiationsPerIpPerMinute = 600;

    /// <summary>The default of <see cref="NegotiationBurstPerIp"/>.</summary>
    public const int DefaultNegotiationBurstPerIp = 200;

    /// <summary>The default of <see cref="AuthenticationFailuresPerIp"/>.</summary>
    public const int DefaultAuthenticationFailuresPerIp = 10;

    /// <summary>The default of <see cref="AuthenticationFailureWindow"/>.</summary>
    public static readonly TimeSpan DefaultAuthenticationFailureWindow = TimeSpan.FromMinutes(1);

    /// <summary>The default of <see cref="AuthenticationLockout"/>.</summary>
    public static readonly TimeSpan DefaultAuthenticationLockout = TimeSpan.FromMinutes(5);

    /// <summary>The default of <see cref="RequestHeadersTimeout"/>.</summary>
    public static readonly TimeSpan DefaultRequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="MaxWebSocketHeaderLength"/>.</summary>
    public const int DefaultMaxWebSocketHeaderLength = 512;

    /// <summary>
    /// Browser origins (<c>scheme://host[:port]</c>) allowed on the hub and the auth endpoints besides the server's own.
    /// A request whose <c>Origin</c> is neither gets 403 before any WebSocket upgrade; a request without <c>Origin</c>
    /// (a non-browser client) passes and must still authenticate. The default is empty: same-origin only.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Concurrent hub connections from one IP (one /64 for IPv6). The default is 200.</summary>
    public int MaxConnectionsPerIp { get; set; } = DefaultMaxConnectionsPerIp;

    /// <summary>
    /// Concurrent authenticated hub connections of one user on this node. Authenticate over it fails with
    /// <c>too many connections</c> and closes the connection (the ticket is used up). A person with a few tabs and
    /// devices stays far below it. The default is 20.
    /// </summary>
    public int MaxConnectionsPerUser { get; set; } = DefaultMaxConnectionsPerUser;

    /// <summary>Concurrent hub connections from one IP that have not authenticated yet. The default is 20.</summary>
    public int MaxUnauthenticatedConnectionsPerIp { get; set; } = DefaultMaxUnauthenticatedConnectionsPerIp;

    /// <summary>Concurrent hub connections that have not authenticated yet, from all IPs together. The default is 5,000.</summary>
    public int MaxUnauthenticatedConnections { get; set; } = DefaultMaxUnauthenticatedConnections;

    /// <summary>
    /// New hub connections (WebSocket upgrades, SSE requests and negotiations, each of which creates a connection) let
    /// in per second from all IPs together, after the per-IP caps; a client that negotiates takes two turns. Requests
    /// beyond the rate wait their turn in a queue of <see cref="NewConnectionQueueLimit"/>; beyond that they get 429.
    /// Opening a connection costs far more CPU than a message, so this keeps a flood of connections, from however many
    /// addresses, from starving the authenticated ones. The default is 1,000 per second.
    /// </summary>
    public int NewConnectionsPerSecond { get; set; } = DefaultNewConnectionsPerSecond;

    /// <summary>New hub connections let in at once before <see cref="NewConnectionsPerSecond"/> paces them. The default is 100.</summary>
    public int NewConnectionBurst { get; set; } = DefaultNewConnectionBurst;

    /// <summary>
    /// Upgrades and negotiations that may wait for their turn under <see cref="NewConnectionsPerSecond"/>; 0 refuses
    /// every one over the rate at once. The default is 2,000 (two seconds at the default rate).
    /// </summary>
    public int NewConnectionQueueLimit { get; set; } = DefaultNewConnectionQueueLimit;

    /// <summary>
    /// SignalR negotiations (<c>POST {hub}/negotiate</c>, which official clients send before connecting) let in per
    /// minute from one IP (one /64 for IPv6) once <see cref="NegotiationBurstPerIp"/> is used up; beyond it they get
    /// 429 with <c>Retry-After</c>. Each negotiation creates a connection that SignalR keeps for its disconnect timeout
    /// (15 s) even if the client never connects, so this bounds that memory per address. The default is 600 (10 a second).
    /// </summary>
    public int NegotiationsPerIpPerMinute { get; set; } = DefaultNegotiationsPerIpPerMinute;

    /// <summary>
    /// Negotiations let in at once from one IP before <see cref="NegotiationsPerIpPerMinute"/> paces them: enough for
    /// every client behind one NAT address (<see cref="MaxConnectionsPerIp"/>) to reconnect together. The default is 200.
    /// </summary>
    public int NegotiationBurstPerIp { get; set; } = DefaultNegotiationBurstPerIp;

    /// <summary>
    /// Failed <c>Authenticate</c> calls from one IP within <see cref="AuthenticationFailureWindow"/> that lock the IP out.
    /// The default is 10.
    /// </summary>
    public int AuthenticationFailuresPerIp { get; set; } = DefaultAuthenticationFailuresPerIp;

    /// <summary>The window failed <c>Authenticate</c> calls are counted in. The default is 1 minute.</summary>
    public TimeSpan AuthenticationFailureWindow { get; set; } = DefaultAuthenticationFailureWindow;

    /// <summary>How long a locked-out IP gets 429 for new hub connections. The default is 5 minutes.</summary>
    public TimeSpan AuthenticationLockout { get; set; } = DefaultAuthenticationLockout;

    /// <summary>
    /// How long Kestrel waits for a request's headers (it applies to every request of the server); a client that
    /// trickles them (slowloris) is cut off after it. The default is 10 seconds (Kestrel's own is 30).
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = DefaultRequestHeadersTimeout;

    /// <summary>
    /// The longest <c>Sec-WebSocket-Protocol</c> or <c>Sec-WebSocket-Extensions</c> value a hub upgrade may carry;
    /// longer ones get 400. The default is 512 characters.
    /// </summary>
    public int MaxWebSocketHeaderLength { get; set; } = DefaultMaxWebSocketHeaderLength;
}

internal sealed class ProtectionOptionsValidator : IValidateOptions<ProtectionOptions>
{
    public ValidateOptionsResult Validate(string? name, ProtectionOptions options)
    {
        var errors = new OptionsErrors(ProtectionOptions.SectionName)
            .Positive(nameof(options.MaxConnectionsPerIp), options.MaxConnectionsPerIp)
            .Positive(nameof(options.MaxConnectionsPerUser), options.MaxConnectionsPerUser)
            .Positive(nameof(options.MaxUnauthenticatedConnectionsPerIp), options.MaxUnauthenticatedConnectionsPerIp)
            .Positive(nameof(options.MaxUnauthenticatedConnections), options.MaxUnauthenticatedConnections)
            .Positive(nameof(options.NewConnectionsPerSecond), options.NewConnectionsPerSecond)
            .Positive(nameof(options.NewConnectionBurst), options.NewConnectionBurst)
            .Require(options.NewConnectionQueueLimit >= 0, nameof(options.NewConnectionQueueLimit), "must not be negative")
            .Positive(nameof(options.NegotiationsPerIpPerMinute), options.NegotiationsPerIpPerMinute)
            .Positive(nameof(options.NegotiationBurstPerIp), options.NegotiationBurstPerIp)
            .Positive(nameof(options.AuthenticationFailuresPerIp), options.AuthenticationFailuresPerIp)
            .Positive(nameof(options.AuthenticationFailureWindow), options.AuthenticationFailureWindow)
            .Positive(nameof(options.AuthenticationLockout), options.AuthenticationLockout)
            .Positive(nameof(options.RequestHeadersTimeout), options.RequestHeadersTimeout)
            .Positive(nameof(options.MaxWebSocketHeaderLength), options.MaxWebSocketHeaderLength);
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            errors.Require(OriginPolicy.TryNormalize(options.AllowedOrigins[i], out _), $"{nameof(options.AllowedOrigins)}:{i}",
                "must be an origin such as https://chat.example.com (scheme, host and optional port; no path)");
        }

        return errors.Result();
    }
}
