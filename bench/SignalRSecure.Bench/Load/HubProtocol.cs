namespace SignalRSecure.Bench.Load;

/// <summary>The SignalR hub protocol a link speaks after its handshake.</summary>
internal enum HubProtocol
{
    /// <summary>Text frames: JSON records ended by the record separator 0x1E.</summary>
    Json,

    /// <summary>Binary frames: a varint length prefix, then a MessagePack array (SignalR's <c>MessagePackHubProtocol</c>).</summary>
    MessagePack,
}
