using System.Text;

namespace SignalRSecure.ChatConsole.Terminal;

/// <summary>Makes text from other users safe to print on a terminal.</summary>
internal static class SafeText
{
    /// <summary>
    /// Removes control characters, escape sequences' introducers among them (ESC, CSI), and the bidirectional
    /// overrides that could make a line read differently from what it is; line breaks and tabs become spaces.
    /// </summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '\t' or '\n' or '\r')
            {
                clean.Append(' ');
            }
            else if (!char.IsControl(c) && !IsBidiControl(c))
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }

    private static bool IsBidiControl(char c) =>
        c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
