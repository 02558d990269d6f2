using SignalRSecure.ChatConsole.Terminal;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;

namespace SignalRSecure.ChatConsole.Commands;

/// <summary>Runs the user's commands on the hub and prints their outcome.</summary>
internal sealed class CommandRunner(SecureHubClient client, TextWriter output, ChatPrinter printer)
{
    private static readonly TimeSpan AnnouncementWait = TimeSpan.FromSeconds(2);

    /// <summary>Runs <paramref name="command"/>; false when the user asked to quit.</summary>
    public async Task<bool> RunAsync(ChatCommand command, CancellationToken cancellationToken)
    {
        try
        {
            switch (command)
            {
                case Quit:
                    return false;
                case Broadcast(var text):
                    await client.BroadcastAsync(text, cancellationToken);
                    break;
                case JoinGroup(var group):
                    await JoinAsync(group, cancellationToken);
                    break;
                case LeaveGroup(var group):
                    await client.LeaveGroupAsync(group, cancellationToken);
                    output.WriteLine($"* you left {SafeText.Clean(group)}");
                    break;
                case SendToGroup(var group, var text):
                    await client.SendToGroupAsync(group, text, cancellationToken);
                    break;
                case ListMembers(var group):
                    var members = await client.GetGroupMembersAsync(group, cancellationToken);
                    output.WriteLine($"* in {SafeText.Clean(group)}: {SafeText.Clean(string.Join(", ", members))}");
                    break;
                case Echo(var text):
                    output.WriteLine($"echo: {SafeText.Clean(await client.EchoAsync(text, cancellationToken))}");
                    break;
                case ShowHelp:
                    output.WriteLine(ChatCommand.Help);
                    break;
                case InvalidGroupName(var name):
                    output.WriteLine($"! invalid group name: {SafeText.Clean(name)} (group names are {GroupName.Rule})");
                    break;
                case Invalid(var name):
                    output.WriteLine($"! unknown command or missing argument: {SafeText.Clean(name)} (type /help)");
                    break;
            }
        }
        catch (HubErrorException ex)
        {
            output.WriteLine($"! {ex.Error ?? "the server failed"}");
        }
        catch (SecureHubClosedException ex) when (!ex.IsTerminal)
        {
            output.WriteLine("! the connection dropped before the server answered; it may or may not have been done");
        }

        return true;
    }

    private async Task JoinAsync(string group, CancellationToken cancellationToken)
    {
        if (client.JoinedGroups.Contains(group, StringComparer.Ordinal))
        {
            // Already a member: the server answers without announcing anything, and the history was printed before.
            await client.JoinGroupAsync(group, cancellationToken);
            output.WriteLine($"* you joined {SafeText.Clean(group)}");
            return;
        }

        using var held = printer.HoldLive(group);
        using (var join = printer.ExpectOwnJoin(group))
        {
            await client.JoinGroupAsync(group, cancellationToken);
            await AwaitAnnouncementAsync(join, cancellationToken);
        }

        output.WriteLine($"* you joined {SafeText.Clean(group)}");
        IReadOnlyList<ChatMessage> history;
        try
        {
            // Read after the join: a message sent meanwhile is live (held until now) or in the history, never neither.
            history = await client.GetHistoryAsync(group, cancellationToken: cancellationToken);
        }
        catch (HubErrorException ex)
        {
            output.WriteLine($"! could not read the last messages: {ex.Error ?? "the server failed"}");
            return;
        }

        held.Release(history);
    }

    private static async Task AwaitAnnouncementAsync(ChatPrinter.OwnJoin join, CancellationToken cancellationToken)
    {
        try
        {
            // The server sent the announcement before its answer, but SignalR's client runs event handlers on a loop of
            // their own, which may not have reached it yet: wait for it, briefly, so that it is not printed later as
            // somebody's join.
            await join.Announced.Task.WaitAsync(AnnouncementWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // A connection that dropped right after the answer: the reconnect rejoins quietly.
        }
    }
}
