using System.Text.RegularExpressions;

namespace SignalRSecure.AspNetCore.Groups;

/// <summary>The rules for group names and for the group patterns users are allowed.</summary>
public static partial class GroupNames
{
    /// <summary>
    /// Whether the whole of <paramref name="group"/> is 1 to 64 of <c>A-Z a-z 0-9 _ . -</c>. Also the rule for user
    /// names, so that neither can carry a line break into a log line or become a second name for another.
    /// </summary>
    public static bool IsValid(string? group) => group is not null && NamePattern().IsMatch(group);

    /// <summary>Whether <paramref name="pattern"/> is a group name in which <c>*</c> may stand for any run of characters.</summary>
    public static bool IsValidPattern(string? pattern) => pattern is not null && PatternPattern().IsMatch(pattern);

    /// <summary>Whether any of <paramref name="patterns"/> allows <paramref name="group"/> (a valid group name).</summary>
    public static bool IsAllowed(IEnumerable<string> patterns, string group) => patterns.Any(pattern => Matches(pattern, group));

    private static bool Matches(string pattern, string group)
    {
        var star = pattern.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            return string.Equals(pattern, group, StringComparison.Ordinal);
        }

        // Glob matching with '*' only: the first segment anchors the start, the last the end, the rest in order.
        var segments = pattern.Split('*');
        if (!group.StartsWith(segments[0], StringComparison.Ordinal) || !group.EndsWith(segments[^1], StringComparison.Ordinal)
            || group.Length < segments[0].Length + segments[^1].Length)
        {
            return false;
        }

        var position = segments[0].Length;
        var end = group.Length - segments[^1].Length;
        for (var i = 1; i < segments.Length - 1; i++)
        {
            var found = group.IndexOf(segments[i], position, end - position, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            position = found + segments[i].Length;
        }

        return true;
    }

    // \z, not $: in .NET $ also matches before a final \n, which let "general\n" through as a distinct name.
    [GeneratedRegex(@"^[A-Za-z0-9_.-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.*-]{1,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex PatternPattern();
}
