using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SignalRSecure.AspNetCore.Tickets;

/// <summary>Random bearer secrets (tickets, session ids) and the hashes they are stored under.</summary>
internal static class SecretToken
{
    /// <summary>Random bytes in a secret: 256 bits.</summary>
    public const int Bytes = 32;

    /// <summary>Characters in a secret: 32 bytes in base64url without padding.</summary>
    public const int Length = 43;

    /// <summary>A new secret of <see cref="Bytes"/> bytes from the operating system's CSPRNG, base64url.</summary>
    public static string Create() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(Bytes));

    /// <summary>
    /// Whether <paramref name="value"/> has the shape of a secret. Checked before hashing, so that oversized or
    /// malformed input costs nothing.
    /// </summary>
    public static bool IsWellFormed(string? value)
    {
        if (value is null || value.Length != Length)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The base64url SHA-256 hash a secret is stored under.</summary>
    public static string Hash(string secret) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(secret)));

    /// <summary>The hash of a presented secret, or null when it does not have the shape of one (nothing to look up).</summary>
    public static string? HashIfWellFormed(string? presented) => IsWellFormed(presented) ? Hash(presented!) : null;
}
