using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>The authentication gate and per-connection limits of every hub mapped with <c>MapSecureHub</c>. Bound from <see cref="SectionName"/>.</summary>
public sealed class SecureHubOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Hub";

    /// <summary>The default of <see cref="AuthenticationTimeout"/>.</summary>
    public static readonly TimeSpan DefaultAuthenticationTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="HandshakeTimeout"/>.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="SessionLifetime"/>.</summary>
    public static readonly TimeSpan DefaultSessionLifetime = TimeSpan.FromHours(1);

    /// <summary>The default of <see cref="DeadlinePrecision"/>.</summary>
    public static readonly TimeSpan DefaultDeadlinePrecision = TimeSpan.FromMilliseconds(20);

    /// <summary>The default of <see cref="SendTimeout"/>.</summary>
    public static readonly TimeSpan DefaultSendTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="MaximumReceiveMessageSize"/>: 32 KB.</summary>
    public const int DefaultMaximumReceiveMessageSize = 32 * 1024;

    /// <summary>The default of <see cref="PreAuthenticationMaximumMessageSize"/>: 2 KB.</summary>
    public const int DefaultPreAuthenticationMaximumMessageSize = 2 * 1024;

    /// <summary>The default of <see cref="PreAuthenticationMaximumMessages"/>.</summary>
    public const int DefaultPreAuthenticationMaximumMessages = 8;

    /// <summary>The default of <see cref="MessagesPerSecond"/>.</summary>
    public const int DefaultMessagesPerSecond = 60;

    /// <summary>The default of <see cref="MessageBurst"/>.</summary>
    public const int DefaultMessageBurst = 120;

    /// <summary>The default of <see cref="InvocationsPerSecond"/>.</summary>
    public const int DefaultInvocationsPerSecond = 30;

    /// <summary>The default of <see cref="InvocationBurst"/>.</summary>
    public const int DefaultInvocationBurst = 60;

    /// <summary>The default of <see cref="RateLimitStrikesBeforeClose"/>.</summary>
    public const int DefaultRateLimitStrikesBeforeClose = 30;

    /// <summary>The default of <see cref="UserInvocationsPerSecond"/>.</summary>
    public const int DefaultUserInvocationsPerSecond = 60;

    /// <summary>The default of <see cref="UserInvocationBurst"/>.</summary>
    public const int DefaultUserInvocationBurst = 120;

    /// <summary>The name of SignalR's JSON hub protocol in <see cref="Protocols"/>.</summary>
    public const string JsonProtocol = "json";

    /// <summary>The name of SignalR's MessagePack hub protocol in <see cref="Protocols"/>.</summary>
    public const string MessagePackProtocol = "messagepack";

    /// <summary>The default of <see cref="Protocols"/>: JSON only.</summary>
    public const string DefaultProtocols = JsonProtocol;

    /// <summary>
    /// How long after connecting a connection has to authenticate; it is then closed with <c>authentication timeout</c>.
    /// Keep-alive pings do not extend it. The default is 10 seconds.
    /// </summary>
    public TimeSpan AuthenticationTimeout { get; set; } = DefaultAuthenticationTimeout;

    /// <summary>How long a new connection has to send the SignalR handshake. The default is 5 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = DefaultHandshakeTimeout;

    /// <summary>
    /// How long an authenticated session lasts from <c>Authenticate</c> or the latest <c>Reauthenticate</c>; the
    /// connection is then closed with <c>session expired</c>. The default is 1 hour.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = DefaultSessionLifetime;

    /// <summary>
    /// How late after its deadline (<see cref="AuthenticationTimeout"/>, the end of the session) a connection may be
    /// closed, never earlier: every connection's deadline is kept on one shared timer that fires at most once per this
    /// interval, instead of a timer per connection. The default is 20 milliseconds.
    /// </summary>
    public TimeSpan DeadlinePrecision { get; set; } = DefaultDeadlinePrecision;

    /// <summary>
    /// How long a send to a client may stay blocked (a consumer that stopped reading) before the connection is
    /// closed. The default is 10 seconds.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = DefaultSendTimeout;

    /// <summary>
    /// The largest message an authenticated connection may send, in bytes, its record separator included; a larger one
    /// closes the connection with <c>message too large</c> before SignalR reads it. The default is 32 KB.
    /// </summary>
    public int MaximumReceiveMessageSize { get; set; } = DefaultMaximumReceiveMessageSize;

    /// <summary>
    /// The largest message, the handshake included, a connection may send before it authenticates, in bytes.
    /// The default is 2 KB.
    /// </summary>
    public int PreAuthenticationMaximumMessageSize { get; set; } = DefaultPreAuthenticationMaximumMessageSize;

    /// <summary>
    /// Messages a connection may send after the handshake and before it authenticates: pings, a close and the one
    /// Authenticate. One more closes it with <c>authentication required</c>. The official clients ping every 15 seconds,
    /// so raise it together with a longer <see cref="AuthenticationTimeout"/>. The default is 8.
    /// </summary>
    public int PreAuthenticationMaximumMessages { get; set; } = DefaultPreAuthenticationMaximumMessages;

    /// <summary>
    /// Messages per second an authenticated connection may sustain, every kind counted (invocations, pings, completions,
    /// stream items); beyond <see cref="MessageBurst"/> the connection is closed with <c>rate limited</c>. It backs the
    /// finer <see cref="InvocationsPerSecond"/>, which answers over-limit calls with an error first, and catches what
    /// that one cannot see, such as a flood of pings. The default is 60.
    /// </summary>
    public int MessagesPerSecond { get; set; } = DefaultMessagesPerSecond;

    /// <summary>Messages one connection may send at once above <see cref="MessagesPerSecond"/>. The default is 120.</summary>
    public int MessageBurst { get; set; } = DefaultMessageBurst;

    /// <summary>Invocations per second one connection may sustain. The default is 30.</summary>
    public int InvocationsPerSecond { get; set; } = DefaultInvocationsPerSecond;

    /// <summary>Invocations one connection may make at once above its sustained rate. The default is 60.</summary>
    public int InvocationBurst { get; set; } = DefaultInvocationBurst;

    /// <summary>
    /// Invocations per second one user may sustain across all of the user's connections on this node, on top of each
    /// connection's own <see cref="InvocationsPerSecond"/>; over it the calling connection gets <c>rate limited</c>
    /// like over its own limit. A person chatting from a few tabs stays far below it. The default is 60.
    /// </summary>
    public int UserInvocationsPerSecond { get; set; } = DefaultUserInvocationsPerSecond;

    /// <summary>
    /// Invocations one user's connections may make at once above <see cref="UserInvocationsPerSecond"/>: enough for
    /// three connections re-joining 32 groups each after a reconnect. The default is 120.
    /// </summary>
    public int UserInvocationBurst { get; set; } = DefaultUserInvocationBurst;

    /// <summary>
    /// Rejected (over-limit) invocations a connection may accumulate before it is closed with <c>rate limited</c>;
    /// one strike is forgiven every second. The default is 30.
    /// </summary>
    public int RateLimitStrikesBeforeClose { get; set; } = DefaultRateLimitStrikesBeforeClose;

    /// <summary>
    /// The transports clients may use. Other transports than WebSockets keep working but get no 429 at the door:
    /// their per-IP limits close the connection instead. The default is WebSockets only.
    /// </summary>
    public HttpTransportType Transports { get; set; } = HttpTransportType.WebSockets;

    /// <summary>
    /// The hub protocols clients may speak, separated by commas: <c>json</c>, <c>messagepack</c> or both
    /// (<c>json,messagepack</c>). A handshake naming another protocol is refused; the gate reads MessagePack frames
    /// before authentication as strictly as JSON ones. The default is <c>json</c>.
    /// </summary>
    public string Protocols { get; set; } = DefaultProtocols;

    /// <summary>The protocol names of <see cref="Protocols"/>, each once; empty when it names an unknown one.</summary>
    internal IReadOnlyList<string> ProtocolNames => ParseProtocols(Protocols) ?? [];

    /// <summary>
    /// Reads a comma-separated list of protocol names (spaces around names allowed, case ignored), each once, as
    /// SignalR names them; null when it is empty or names another protocol.
    /// </summary>
    internal static string[]? ParseProtocols(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var names = new List<string>(2);
        foreach (var part in value.Split(','))
        {
            // Only spaces: a name followed by a line break is a mistake worth a start-up error, not a silent fix.
            var name = part.Trim(' ');
            var known = string.Equals(name, JsonProtocol, StringComparison.OrdinalIgnoreCase) ? JsonProtocol
                : string.Equals(name, MessagePackProtocol, StringComparison.OrdinalIgnoreCase) ? MessagePackProtocol
                : null;
            if (known is null)
            {
                return null;
            }

            if (!names.Contains(known))
            {
                names.Add(known);
            }
        }

        return [.. names];
    }
}

internal sealed class SecureHubOptionsValidator : IValidateOptions<SecureHubOptions>
{
    public ValidateOptionsResult Validate(string? name, SecureHubOptions options) =>
        new OptionsErrors(SecureHubOptions.SectionName)
            .Positive(nameof(options.AuthenticationTimeout), options.AuthenticationTimeout, TimeSpan.FromMinutes(5))
            .Positive(nameof(options.HandshakeTimeout), options.HandshakeTimeout, TimeSpan.FromMinutes(1))
            .Positive(nameof(options.SessionLifetime), options.SessionLifetime, TimeSpan.FromDays(1))
            .Positive(nameof(options.DeadlinePrecision), options.DeadlinePrecision, TimeSpan.FromSeconds(1))
            .Positive(nameof(options.SendTimeout), options.SendTimeout)
            .Positive(nameof(options.MaximumReceiveMessageSize), options.MaximumReceiveMessageSize)
            .Positive(nameof(options.PreAuthenticationMaximumMessageSize), options.PreAuthenticationMaximumMessageSize)
            .Require(options.PreAuthenticationMaximumMessageSize <= options.MaximumReceiveMessageSize,
                nameof(options.PreAuthenticationMaximumMessageSize), $"must not exceed {nameof(options.MaximumReceiveMessageSize)}")
            .Require(options.PreAuthenticationMaximumMessages >= 1, nameof(options.PreAuthenticationMaximumMessages), "must allow at least the Authenticate message")
            .Positive(nameof(options.MessagesPerSecond), options.MessagesPerSecond)
            .Positive(nameof(options.MessageBurst), options.MessageBurst)
            .Require(options.MessagesPerSecond >= options.InvocationsPerSecond, nameof(options.MessagesPerSecond),
                $"must be at least {nameof(options.InvocationsPerSecond)}, or invocations within their limit close the connection")
            .Require(options.MessageBurst >= (long)options.InvocationBurst + options.RateLimitStrikesBeforeClose, nameof(options.MessageBurst),
                $"must be at least {nameof(options.InvocationBurst)} + {nameof(options.RateLimitStrikesBeforeClose)}, so that over-limit calls get their error before the connection closes")
            .Positive(nameof(options.InvocationsPerSecond), options.InvocationsPerSecond)
            .Positive(nameof(options.InvocationBurst), options.InvocationBurst)
            .Positive(nameof(options.RateLimitStrikesBeforeClose), options.RateLimitStrikesBeforeClose)

            // A user's budget below one connection's would make the per-connection limit a fiction.
            .Require(options.UserInvocationsPerSecond >= options.InvocationsPerSecond,
                nameof(options.UserInvocationsPerSecond), $"must be at least {nameof(options.InvocationsPerSecond)}")
            .Require(options.UserInvocationBurst >= options.InvocationBurst,
                nameof(options.UserInvocationBurst), $"must be at least {nameof(options.InvocationBurst)}")
            .Require(options.Transports != HttpTransportType.None, nameof(options.Transports), "must name at least one transport")
            .Require(SecureHubOptions.ParseProtocols(options.Protocols) is not null, nameof(options.Protocols),
                $"must list {SecureHubOptions.JsonProtocol}, {SecureHubOptions.MessagePackProtocol} or both, separated by commas")
            .Result();
}
