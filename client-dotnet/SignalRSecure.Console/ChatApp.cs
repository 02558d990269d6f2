using System.Net.WebSockets;
using System.Threading.Channels;
using SignalRSecure.ChatConsole.Commands;
using SignalRSecure.ChatConsole.Startup;
using SignalRSecure.ChatConsole.Terminal;
using SignalRSecure.Client;

namespace SignalRSecure.ChatConsole;

/// <summary>The console chat: sign in, connect, then run the user's lines until /quit, the end of input or Ctrl+C.</summary>
internal static class ChatApp
{
    private const int Succeeded = 0;
    private const int Failed = 1;
    private const int BadUsage = 2;

    public static async Task<int> RunAsync(string[] args, CancellationToken stop)
    {
        var arguments = ChatArguments.TryParse(args, out var usageError);
        if (arguments is null)
        {
            await Console.Error.WriteLineAsync($"{usageError}\n{ChatArguments.Usage}");
            return BadUsage;
        }

        if (arguments.Help)
        {
            await Console.Out.WriteLineAsync($"{ChatArguments.Usage}\n\n{ChatArguments.Description}");
            return Succeeded;
        }

        string? problem;
        try
        {
            problem = await ServerCheck.FindProblemAsync(arguments.ServerUrl, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Succeeded;
        }

        if (problem is not null)
        {
            await Console.Error.WriteLineAsync($"Cannot reach the server at {arguments.ServerUrl}: {problem}");
            return Failed;
        }

        var user = arguments.User ?? ReadUser();
        var password = user is null ? null : PasswordPrompt.Read($"Password for {user}: ");
        if (user is null || password is null)
        {
            return BadUsage;
        }

        using var tickets = new CookieTicketSource(arguments.ServerUrl);
        try
        {
            // Kept so that the client can sign in again after a server restart; they live as long as this process.
            await tickets.SignInAsync(user, password, keepCredentials: true, stop);
        }
        catch (Exception ex) when (ex is AuthRequestException or HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"Sign-in failed: {ErrorText.Describe(ex)}");
            return Failed;
        }

        await using var client = new SecureHubClient(new SecureHubClientOptions { ServerUrl = arguments.ServerUrl }, tickets.GetTicketAsync);
        var printer = new ChatPrinter(Console.Out);
        printer.Attach(client);
        try
        {
            var session = await client.ConnectAsync(stop);
            Console.Out.WriteLine($"Connected as {session.User}; you may join: {string.Join(", ", session.Groups)}. Type /help for commands.");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Succeeded;
        }
        catch (Exception ex) when (ex is SecureHubClosedException or AuthRequestException or HttpRequestException or WebSocketException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"Connecting failed: {ErrorText.Describe(ex)}");
            return Failed;
        }

        await RunCommandsAsync(new CommandRunner(client, Console.Out, printer), printer, stop);
        await client.StopAsync(CancellationToken.None);
        return printer.Closed.Task is { IsCompleted: true, Result.Error: not null } ? Failed : Succeeded;
    }

    private static async Task RunCommandsAsync(CommandRunner runner, ChatPrinter printer, CancellationToken stop)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _ = printer.Closed.Task.ContinueWith(_ => session.Cancel(), TaskScheduler.Default);
        var lines = ReadStandardInput();
        try
        {
            while (await lines.WaitToReadAsync(session.Token))
            {
                while (lines.TryRead(out var line))
                {
                    if (!await runner.RunAsync(ChatCommand.Parse(line), session.Token))
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested)
        {
            // Ctrl+C, or the server closed the connection for good: either way the chat is over.
        }
    }

    private static string? ReadUser()
    {
        Console.Error.Write("User: ");
        var user = Console.In.ReadLine()?.Trim();
        return string.IsNullOrEmpty(user) ? null : user;
    }

    /// <summary>Reads standard input on a thread of its own, so that a blocking read never holds up the chat or its exit.</summary>
    private static ChannelReader<string> ReadStandardInput()
    {
        var lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var reader = new Thread(() =>
        {
            while (Console.In.ReadLine() is { } line)
            {
                lines.Writer.TryWrite(line);
            }

            lines.Writer.TryComplete();
        })
        {
            IsBackground = true,
            Name = "stdin",
        };
        reader.Start();
        return lines.Reader;
    }
}
