namespace SignalRSecure.Bench.Targets;

/// <summary>The servers under comparison, by the letters the report uses.</summary>
internal enum ServerKind
{
    /// <summary>A plain SignalR hub with the same methods, no authentication.</summary>
    A,

    /// <summary>Stock SignalR authentication: [Authorize], bearer token in the access_token query string.</summary>
    B,

    /// <summary>Raw Kestrel WebSockets: echo and broadcast with no protocol.</summary>
    C,

    /// <summary>This project's hub behind the first-message gate: the real server.</summary>
    G,

    /// <summary>The same gate on Node's ws package.</summary>
    N,
}

internal static class ServerKinds
{
    public static string Describe(ServerKind kind) => kind switch
    {
        ServerKind.A => "plain SignalR hub, no authentication",
        ServerKind.B => "stock SignalR auth: [Authorize] + bearer token in access_token query",
        ServerKind.C => "raw Kestrel WebSockets (echo/broadcast, no protocol)",
        ServerKind.G => "SignalRSecure: first-message ticket gate (the real server)",
        ServerKind.N => "Node ws with the same first-message ticket gate",
        _ => kind.ToString(),
    };

    /// <summary>Whether the server speaks SignalR's JSON protocol (all but the raw WebSockets).</summary>
    public static bool SpeaksSignalR(this ServerKind kind) => kind != ServerKind.C;

    /// <summary>Whether a connection must redeem a ticket with its first message.</summary>
    public static bool UsesTickets(this ServerKind kind) => kind is ServerKind.G or ServerKind.N;
}
