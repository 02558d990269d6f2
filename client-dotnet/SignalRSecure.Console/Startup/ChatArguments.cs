namespace SignalRSecure.ChatConsole.Startup;

/// <summary>The command line: <c>--url http://localhost:5000 --user alice</c>, or <c>--help</c>.</summary>
internal sealed record ChatArguments(Uri ServerUrl, string? User, bool Help = false)
{
    public static readonly Uri DefaultServerUrl = new("http://localhost:5000");

    public const string Usage = "usage: SignalRSecure.Console [--url http://localhost:5000] [--user NAME] [--help]";

    public const string Description = """
        A console chat on the SignalRSecure hub. Asks for the user (unless --user gives it) and the password, then
        reads commands and text from standard input; type /help once connected.

          --url URL     the server, http:// or https:// (default http://localhost:5000)
          --user NAME   the user to sign in as
          --help, -h    print this and exit
        """;

    /// <summary>Parses <paramref name="args"/>; null with <paramref name="error"/> set when they make no sense.</summary>
    public static ChatArguments? TryParse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var url = DefaultServerUrl;
        string? user = null;
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i])
            {
                case "--url" when value is not null && Uri.TryCreate(value, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https":
                    url = parsed;
                    i++;
                    break;
                case "--help" or "-h":
                    return new ChatArguments(url, user, Help: true);
                case "--user" when !string.IsNullOrWhiteSpace(value):
                    user = value;
                    i++;
                    break;
                default:
                    error = $"unexpected or incomplete argument '{args[i]}'";
                    return null;
            }
        }

        return new ChatArguments(url, user);
    }
}
