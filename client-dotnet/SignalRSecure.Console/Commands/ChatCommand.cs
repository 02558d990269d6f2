namespace SignalRSecure.ChatConsole.Commands;

/// <summary>One line the user typed.</summary>
internal abstract record ChatCommand
{
    public const string Help = """
        /join GROUP        join a group and print its last messages
        /leave GROUP       leave a group
        /to GROUP TEXT     send TEXT to a group you joined
        /who GROUP         list who is online in a group you joined
        /echo TEXT         have the server echo TEXT back
        /quit              leave (Ctrl+C and the end of input do too)
        TEXT               send TEXT to everyone (start it with // to send a line that begins with /)
        """;

    /// <summary>Reads a line: a slash command, or text to broadcast.</summary>
    public static ChatCommand Parse(string line)
    {
        if (line.StartsWith("//", StringComparison.Ordinal))
        {
            return new Broadcast(line[1..]);
        }

        if (!line.StartsWith('/'))
        {
            return string.IsNullOrWhiteSpace(line) ? new Nothing() : new Broadcast(line);
        }

        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var rest = parts.Length > 1 ? parts[1] : string.Empty;
        var (group, text) = SplitGroup(rest);
        return parts[0] switch
        {
            // The whole rest is the name: "/join bad name!" names an invalid group, not the group "bad" and a text.
            "/join" or "/leave" or "/who" when rest.Length > 0 && !GroupName.IsValid(rest) => new InvalidGroupName(rest),
            "/to" when group is not null && text is not null && !GroupName.IsValid(group) => new InvalidGroupName(group),
            "/join" when rest.Length > 0 => new JoinGroup(rest),
            "/leave" when rest.Length > 0 => new LeaveGroup(rest),
            "/who" when rest.Length > 0 => new ListMembers(rest),
            "/to" when group is not null && text is not null => new SendToGroup(group, text),
            "/echo" when rest.Length > 0 => new Echo(rest),
            "/quit" or "/exit" => new Quit(),
            "/help" => new ShowHelp(),
            _ => new Invalid(parts[0]),
        };
    }

    private static (string? Group, string? Text) SplitGroup(string rest)
    {
        var parts = rest.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (parts.Length > 0 ? parts[0] : null, parts.Length > 1 ? parts[1] : null);
    }
}

internal sealed record Broadcast(string Text) : ChatCommand;

internal sealed record JoinGroup(string Group) : ChatCommand;

internal sealed record LeaveGroup(string Group) : ChatCommand;

internal sealed record SendToGroup(string Group, string Text) : ChatCommand;

internal sealed record ListMembers(string Group) : ChatCommand;

internal sealed record Echo(string Text) : ChatCommand;

internal sealed record Quit : ChatCommand;

internal sealed record ShowHelp : ChatCommand;

internal sealed record Nothing : ChatCommand;

/// <summary>A group command whose group name breaks the server's rule (<see cref="GroupName"/>).</summary>
internal sealed record InvalidGroupName(string Name) : ChatCommand;

/// <summary>A slash command that does not exist or lacks its arguments.</summary>
internal sealed record Invalid(string Command) : ChatCommand;
