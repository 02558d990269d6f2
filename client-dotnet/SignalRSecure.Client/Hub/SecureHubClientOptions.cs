using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Client;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>Where a <see cref="SecureHubClient"/> connects and how it keeps the connection alive.</summary>
public sealed class SecureHubClientOptions
{
    /// <summary>The default of <see cref="ReauthenticateBefore"/>.</summary>
    public static readonly TimeSpan DefaultReauthenticateBefore = TimeSpan.FromMinutes(1);

    /// <summary>The default of <see cref="AttemptTimeout"/>.</summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The delays of the default reconnect policy; the last one repeats until the client is stopped.</summary>
    public static IReadOnlyList<TimeSpan> DefaultReconnectDelays { get; } =
        [TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    /// <summary>
    /// The server, such as <c>https://chat.example.com</c> (or the hub's own <c>wss://</c> address). The client connects
    /// to <see cref="ChatEndpoints.Hub"/> on it. Never put credentials in it. Required.
    /// </summary>
    public required Uri ServerUrl { get; init; }

    /// <summary>
    /// Configures the WebSocket of every connection: request headers such as <c>Origin</c> (a ticket issued to a
    /// browser origin is redeemable only from it), a proxy, client certificates. The default is none.
    /// </summary>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; init; }

    /// <summary>
    /// How long before the session ends the client redeems a fresh ticket with <see cref="ISecureHub.Reauthenticate"/>;
    /// for short sessions it renews when a third of the session is left. The default is 1 minute.
    /// </summary>
    public TimeSpan ReauthenticateBefore { get; init; } = DefaultReauthenticateBefore;

    /// <summary>
    /// How long one attempt may take, from asking for the ticket to the end of <see cref="ISecureHub.Authenticate"/> (or of
    /// <see cref="ISecureHub.Reauthenticate"/>). The default is 30 seconds.
    /// </summary>
    public TimeSpan AttemptTimeout { get; init; } = DefaultAttemptTimeout;

    /// <summary>
    /// When to try again after a retryable close or a transport drop; returning null gives up and closes the client.
    /// The default waits <see cref="DefaultReconnectDelays"/> and then retries every 30 seconds until the client is stopped.
    /// </summary>
    public IRetryPolicy? ReconnectPolicy { get; init; }

    /// <summary>
    /// The hub protocol: <see cref="SecureHubProtocol.MessagePack"/> only when the server enables it
    /// (<c>SignalRSecure:Hub:Protocols</c>), or the handshake fails. The default is <see cref="SecureHubProtocol.Json"/>.
    /// </summary>
    public SecureHubProtocol Protocol { get; init; } = SecureHubProtocol.Json;

    /// <summary>The hub's WebSocket address on <see cref="ServerUrl"/>.</summary>
    internal Uri HubUri
    {
        get
        {
            var server = HubAddress.ToWebSocketUri(ServerUrl);
            return server.AbsolutePath.EndsWith(ChatEndpoints.Hub, StringComparison.Ordinal)
                ? server
                : new Uri(server, ChatEndpoints.Hub);
        }
    }

    /// <summary>Throws when an option is out of range, naming it.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(ServerUrl);
        _ = HubUri;
        if (ReauthenticateBefore <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReauthenticateBefore), ReauthenticateBefore, "must be positive");
        }

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "must be positive");
        }
    }
}
