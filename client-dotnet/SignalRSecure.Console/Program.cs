using SignalRSecure.ChatConsole;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C ends the chat as /quit does, closing the connection first; a second one (say, at the password
    // prompt, which cannot be interrupted) ends the process at once.
    e.Cancel = !stop.IsCancellationRequested;
    stop.Cancel();
};

return await ChatApp.RunAsync(args, stop.Token);
