using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SignalRSecure.Chat.Contracts;

/// <summary>
/// The order of <see cref="ChatMessage.Id"/>s within one group. An id is two decimal numbers joined by a hyphen
/// (<c>1732870000000-0</c>, the shape of a Redis stream id): ordered by the first, then by the second. Ids of different
/// groups are not comparable.
/// </summary>
public static class ChatMessageIds
{
    /// <summary>The longest id accepted from a client: two 20-digit numbers and the hyphen.</summary>
    public const int MaximumLength = 41;

    /// <summary>Whether <paramref name="id"/> is a well-formed message id.</summary>
    /// <param name="id">The id to check.</param>
    /// <returns>True when the id parses.</returns>
    public static bool IsValid([NotNullWhen(true)] string? id) => TryParse(id, out _, out _);

    /// <summary>Compares two well-formed ids of the same group.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns>Less than zero when <paramref name="left"/> is older, zero when equal, more than zero when newer.</returns>
    /// <exception cref="FormatException">Either id is not well formed.</exception>
    public static int Compare(string left, string right)
    {
        if (!TryParse(left, out var leftHigh, out var leftLow) || !TryParse(right, out var rightHigh, out var rightLow))
        {
            throw new FormatException("Not a chat message id.");
        }

        var high = leftHigh.CompareTo(rightHigh);
        return high != 0 ? high : leftLow.CompareTo(rightLow);
    }

    /// <summary>Formats an id from its two numbers.</summary>
    /// <param name="high">The first number (a Unix time in milliseconds, for the ids the server makes).</param>
    /// <param name="low">The second number (a sequence within the millisecond).</param>
    /// <returns>The id.</returns>
    public static string Format(ulong high, ulong low) =>
        string.Create(CultureInfo.InvariantCulture, $"{high}-{low}");

    /// <summary>Parses an id into its two numbers.</summary>
    /// <param name="id">The id.</param>
    /// <param name="high">The first number.</param>
    /// <param name="low">The second number.</param>
    /// <returns>True when <paramref name="id"/> is well formed: digits only, no sign or whitespace, one hyphen.</returns>
    public static bool TryParse([NotNullWhen(true)] string? id, out ulong high, out ulong low)
    {
        high = low = 0;
        if (string.IsNullOrEmpty(id) || id.Length > MaximumLength)
        {
            return false;
        }

        var hyphen = id.IndexOf('-', StringComparison.Ordinal);
        return hyphen > 0
            && IsDigits(id.AsSpan(0, hyphen))
            && IsDigits(id.AsSpan(hyphen + 1))
            && ulong.TryParse(id.AsSpan(0, hyphen), NumberStyles.None, CultureInfo.InvariantCulture, out high)
            && ulong.TryParse(id.AsSpan(hyphen + 1), NumberStyles.None, CultureInfo.InvariantCulture, out low);
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        // char.IsAsciiDigit and not NumberStyles alone: the parser must reject what Redis would read differently.
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
