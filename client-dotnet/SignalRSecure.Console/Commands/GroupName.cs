namespace SignalRSecure.ChatConsole.Commands;

/// <summary>
/// The server's rule for group names (<c>GroupNames.IsValid</c>, which the client projects cannot reference): the whole
/// name is 1 to 64 of <c>A-Z a-z 0-9 _ . -</c>. Checked before sending, so that a typo gets a precise answer instead
/// of being read as a group and a text.
/// </summary>
internal static class GroupName
{
    public const string Rule = "1 to 64 of A-Z a-z 0-9 _ . -";

    public static bool IsValid(string name) =>
        name.Length is >= 1 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
}
