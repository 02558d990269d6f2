using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>The key per-IP limits count by.</summary>
internal static class ClientAddress
{
    // An IPv6 address with an embedded IPv4 address and a scope id: 45 characters, the scope id up to 10 more.
    private const int MaximumAddressLength = 64;

    /// <summary>
    /// The remote address of <paramref name="context"/>'s connection. Read from the feature because
    /// <c>HttpContext.Connection</c> allocates an object that a WebSocket request would keep for its whole life.
    /// </summary>
    public static IPAddress? RemoteIpOf(HttpContext context) =>
        context.Features.Get<IHttpConnectionFeature>()?.RemoteIpAddress;

    /// <summary>
    /// IPv4 addresses count one by one (IPv4-mapped IPv6 ones as IPv4); IPv6 addresses count by their /64 network,
    /// because one client usually holds a whole /64. A missing address counts as <see cref="IPAddress.None"/>.
    /// </summary>
    public static IPAddress PartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return IPAddress.None;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    /// <summary>The address as the ticket binding compares it: IPv4-mapped IPv6 addresses become IPv4.</summary>
    public static string? Normalize(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        // Formatted, not ToString(): IPAddress keeps the string its ToString() made, and a connection's address lives as
        // long as the connection (40 bytes each, for a text that is only compared at a ticket redemption).
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        Span<char> text = stackalloc char[MaximumAddressLength];
        return normalized.TryFormat(text, out var written) ? new string(text[..written]) : normalized.ToString();
    }
}
