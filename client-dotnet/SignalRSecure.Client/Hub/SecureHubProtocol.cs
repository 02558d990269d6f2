namespace SignalRSecure.Client;

/// <summary>The SignalR hub protocol a <see cref="SecureHubClient"/> speaks; the server must enable it (<c>SignalRSecure:Hub:Protocols</c>).</summary>
public enum SecureHubProtocol
{
    /// <summary>SignalR's JSON protocol, which every server enables by default.</summary>
    Json,

    /// <summary>SignalR's binary MessagePack protocol: smaller messages, faster to read and write.</summary>
    MessagePack,
}
