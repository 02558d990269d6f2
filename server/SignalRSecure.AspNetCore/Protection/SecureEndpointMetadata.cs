namespace SignalRSecure.AspNetCore.Protection;

/// <summary>What kind of SignalRSecure endpoint a route is.</summary>
public enum SecureEndpointKind
{
    /// <summary>A secure hub (negotiate and transport requests).</summary>
    Hub,

    /// <summary>One of the <c>/auth/*</c> endpoints.</summary>
    Auth,
}

/// <summary>
/// Endpoint metadata that puts a route under the SignalRSecure protections: the Origin allow-list, and for hubs
/// the per-IP lockout and connection caps. Added by <c>MapSecureHub</c> and <c>MapSignalRSecureAuth</c>.
/// </summary>
/// <param name="Kind">The kind of endpoint.</param>
public sealed record SecureEndpointMetadata(SecureEndpointKind Kind);
