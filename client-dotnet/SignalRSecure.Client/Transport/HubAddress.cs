namespace SignalRSecure.Client;

/// <summary>The hub's WebSocket address, from the server address a user configures.</summary>
internal static class HubAddress
{
    /// <summary>The WebSocket address of <paramref name="address"/>: <c>http</c> becomes <c>ws</c>, <c>https</c> becomes <c>wss</c>.</summary>
    /// <param name="address">An absolute <c>http</c>, <c>https</c>, <c>ws</c> or <c>wss</c> address without user information.</param>
    /// <returns>The <c>ws</c> or <c>wss</c> address.</returns>
    /// <exception cref="ArgumentException">Another scheme, a relative address, or user information in the address.</exception>
    public static Uri ToWebSocketUri(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri)
        {
            throw new ArgumentException("The hub address must be absolute.", nameof(address));
        }

        // Credentials in an address end up in proxy logs and browser histories; this client never sends them there.
        if (address.UserInfo.Length != 0)
        {
            throw new ArgumentException("The hub address must not carry user information.", nameof(address));
        }

        var scheme = address.Scheme switch
        {
            "http" or "ws" => "ws",
            "https" or "wss" => "wss",
            _ => throw new ArgumentException("The hub address must be http, https, ws or wss.", nameof(address)),
        };
        return new UriBuilder(address) { Scheme = scheme }.Uri;
    }
}
