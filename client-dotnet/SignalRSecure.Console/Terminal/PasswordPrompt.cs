using System.Text;

namespace SignalRSecure.ChatConsole.Terminal;

/// <summary>Asks for a password without echoing it.</summary>
internal static class PasswordPrompt
{
    /// <summary>
    /// Reads the password from the keyboard without echo; when standard input is redirected (a script), reads one line
    /// of it instead. Returns null when the input ends first.
    /// </summary>
    public static string? Read(string prompt)
    {
        // Prompts go to standard error, so that a script's standard output holds nothing but the chat.
        Console.Error.Write(prompt);
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine();
        }

        var password = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.Error.WriteLine();
                    return password.ToString();
                case ConsoleKey.Backspace when password.Length > 0:
                    password.Length--;
                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        password.Append(key.KeyChar);
                    }

                    break;
            }
        }
    }
}
