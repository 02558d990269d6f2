using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>
/// PBKDF2-SHA256 password hashes in the form <c>pbkdf2-sha256$iterations$salt$hash</c> (salt and hash in base64).
/// </summary>
public static class PasswordHasher
{
    /// <summary>The iterations of a new hash: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>The longest password accepted, in characters; longer ones fail without being hashed.</summary>
    public const int MaximumPasswordLength = 1024;

    private const string Scheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    // Everything an encoded hash may contain. Convert.FromBase64String skips whitespace anywhere in its input, so
    // without this check a hash with a line break inside or after it would pass as another spelling of itself.
    private static readonly SearchValues<char> EncodedCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=$-");

    /// <summary>Hashes <paramref name="password"/> with a fresh random salt.</summary>
    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        // Stryker disable once Statement: equivalent, Pbkdf2 throws the same ArgumentOutOfRangeException for "iterations" below 1
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Scheme, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    /// <summary>Parses an encoded hash; false when it is not in the expected form.</summary>
    public static bool TryParse(string? encoded, out PasswordHash hash)
    {
        hash = default;
        var parts = encoded is null || encoded.AsSpan().ContainsAnyExcept(EncodedCharacters) ? null : encoded.Split('$');
        if (parts is not [Scheme, var iterationsText, var saltText, var hashText]
            || !int.TryParse(iterationsText, NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations < 1)
        {
            return false;
        }

        try
        {
            hash = new PasswordHash(iterations, Convert.FromBase64String(saltText), Convert.FromBase64String(hashText));
            return hash.Salt.Length >= 8 && hash.Hash.Length == HashBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Checks <paramref name="password"/> against <paramref name="hash"/> in constant time.</summary>
    public static bool Verify(string password, PasswordHash hash)
    {
        var candidate = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), hash.Salt, hash.Iterations, HashAlgorithmName.SHA256, HashBytes);
        return CryptographicOperations.FixedTimeEquals(candidate, hash.Hash);
    }
}

/// <summary>A parsed PBKDF2-SHA256 hash.</summary>
/// <param name="Iterations">The iteration count.</param>
/// <param name="Salt">The salt.</param>
/// <param name="Hash">The derived key.</param>
public readonly record struct PasswordHash(int Iterations, byte[] Salt, byte[] Hash);
