namespace SignalRSecure.ChatConsole.Terminal;

/// <summary>Failures as one line a person can act on.</summary>
internal static class ErrorText
{
    private static readonly string[] SeeInner = [", see inner exception.", " See the inner exception for details.", "; see inner exception."];

    /// <summary>
    /// The message of <paramref name="error"/>, followed by its inner exceptions' wherever a message only points to
    /// them ("The SSL connection could not be established, see inner exception." says nothing of the untrusted root or
    /// the name mismatch), on one line.
    /// </summary>
    public static string Describe(Exception error)
    {
        var text = error.Message;
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            var pointer = SeeInner.FirstOrDefault(p => text.EndsWith(p, StringComparison.Ordinal));
            if (pointer is not null)
            {
                text = $"{text[..^pointer.Length]}: {inner.Message}";
            }
            else if (!text.Contains(inner.Message, StringComparison.Ordinal))
            {
                // A message that stands on its own, but an inner reason that it does not repeat is worth the words.
                text = $"{text.TrimEnd('.')}: {inner.Message}";
            }
        }

        return SafeText.Clean(text);
    }
}
