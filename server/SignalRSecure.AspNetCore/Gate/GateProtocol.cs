namespace SignalRSecure.AspNetCore.Gate;

/// <summary>The hub protocol a connection chose in its handshake, as far as the gate can read it.</summary>
internal enum GateProtocol
{
    /// <summary>SignalR's JSON protocol: text frames, each ended by <c>0x1e</c>.</summary>
    Json,

    /// <summary>SignalR's MessagePack protocol: binary frames, each preceded by its length as a varint.</summary>
    MessagePack,

    /// <summary>
    /// Any other protocol an app registered: the gate cannot classify its frames, so the connection is closed before
    /// its first message reaches SignalR.
    /// </summary>
    Unreadable,
}
