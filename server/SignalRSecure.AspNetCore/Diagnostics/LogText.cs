using System.Text;

namespace SignalRSecure.AspNetCore.Diagnostics;

/// <summary>Makes client-supplied text safe to put in a log record.</summary>
internal static class LogText
{
    private const int MaximumLength = 64;

    /// <summary>
    /// At most 64 characters, with every control character (CR, LF, ESC of ANSI sequences, NUL...) and every
    /// format character (bidi overrides, zero-width) replaced by <c>?</c>, so that one event stays one readable record.
    /// Braces need no escaping: structured logging treats values as data, not as templates.
    /// </summary>
    public static string Sanitize(string? value)
    {
        if (value is null)
        {
            return "(none)";
        }

        var builder = new StringBuilder(Math.Min(value.Length, MaximumLength) + 1);
        foreach (var rune in value.EnumerateRunes())
        {
            if (builder.Length >= MaximumLength)
            {
                builder.Append('…');
                break;
            }

            var category = Rune.GetUnicodeCategory(rune);
            builder.Append(category is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                ? "?"
                : rune.ToString());
        }

        return builder.ToString();
    }
}
