namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The reverse proxies in front of the server. With none configured (the default) <c>X-Forwarded-For</c> is ignored
/// and every limit counts the address of the TCP connection. With some, a request that comes from one of them is
/// counted by the client address the proxy forwards, so that IP binding, the per-IP caps and the lockout keep working
/// behind it; a request from anywhere else keeps its own address whatever headers it carries.
/// Bound from <see cref="SectionName"/>.
/// </summary>
public sealed class ProxyOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Proxy";

    /// <summary>The default of <see cref="ForwardLimit"/>.</summary>
    public const int DefaultForwardLimit = 1;

    /// <summary>Addresses of the proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are trusted. The default is none.</summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>Networks (CIDR, such as <c>10.0.0.0/8</c>) of trusted proxies. The default is none.</summary>
    public IList<string> KnownNetworks { get; } = [];

    /// <summary>
    /// How many proxies, from the nearest, may each have added an address to <c>X-Forwarded-For</c>. The default is 1:
    /// one proxy, and the address it saw is the client.
    /// </summary>
    public int ForwardLimit { get; set; } = DefaultForwardLimit;

    /// <summary>Whether any proxy is configured.</summary>
    public bool IsConfigured => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}
