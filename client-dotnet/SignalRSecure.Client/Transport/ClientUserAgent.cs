using System.Reflection;

namespace SignalRSecure.Client;

/// <summary>
/// The <c>User-Agent</c> this client sends on the ticket request and on the hub's WebSocket request alike: the
/// server binds each ticket to the <c>User-Agent</c> it was issued to, so the two must be equal.
/// </summary>
public static class ClientUserAgent
{
    /// <summary>The header's name.</summary>
    public const string HeaderName = "User-Agent";

    /// <summary><c>SignalRSecure.Client/</c> and this assembly's version, such as <c>SignalRSecure.Client/1.0.0</c>.</summary>
    public static string Value { get; } = $"SignalRSecure.Client/{typeof(ClientUserAgent).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"}";
}
