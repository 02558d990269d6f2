using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>The form a <c>User-Agent</c> is bound to a ticket in: a short hash, never the header itself.</summary>
internal static class UserAgentHash
{
    private const int SharedSlots = 256;
    private const int SharedMaximumLength = 512;

    private static readonly Known?[] s_known = new Known?[SharedSlots];

    /// <summary>
    /// The base64url SHA-256 hash of the exact header value (several headers as the comma-joined value ASP.NET Core
    /// reads). A request without the header hashes like an empty one: a fixed value that no real agent string has.
    /// </summary>
    public static string Of(string? userAgent) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(userAgent ?? string.Empty)));

    /// <summary>
    /// <see cref="Of"/>, as one string for every connection of the same agent: a connection keeps its hash for its
    /// whole life (Reauthenticate checks it again), and most connections share a handful of agents. A small
    /// direct-mapped table of recent agents, short ones only, so that it stays small; a miss just hashes.
    /// </summary>
    public static string Shared(string? userAgent)
    {
        userAgent ??= string.Empty;
        if (userAgent.Length > SharedMaximumLength)
        {
            return Of(userAgent);
        }

        var slot = (int)((uint)StringComparer.Ordinal.GetHashCode(userAgent) % SharedSlots);
        if (Volatile.Read(ref s_known[slot]) is { } known && string.Equals(known.UserAgent, userAgent, StringComparison.Ordinal))
        {
            return known.Hash;
        }

        var hash = Of(userAgent);
        Volatile.Write(ref s_known[slot], new Known(userAgent, hash));
        return hash;
    }

    private sealed record Known(string UserAgent, string Hash);
}
