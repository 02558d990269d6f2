using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>The form a <c>User-Agent</c> is bound to a ticket in: a short hash, never the header itself.</summary>
internal static class UserAgentHash
{
    /// <summary>
    /// The base64url SHA-256 hash of the exact header value (several headers as the comma-joined value ASP.NET Core
    /// reads). A request without the header hashes like an empty one: a fixed value that no real agent string has.
    /// </summary>
    public static string Of(string? userAgent) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(userAgent ?? string.Empty)));
}
