using System.Collections.Concurrent;
using SignalRSecure.Client;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.ChatConsole.Terminal;

/// <summary>Prints what arrives from the hub, as plain text with other users' control characters removed.</summary>
internal sealed class ChatPrinter(TextWriter output)
{
    private readonly ConcurrentDictionary<string, OwnJoin> _ownJoins = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<ChatMessage>> _held = new(StringComparer.Ordinal);
    private volatile bool _reconnecting;

    /// <summary>Completes when the client has closed for good, with why.</summary>
    public TaskCompletionSource<SecureHubStateChange> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Attach(SecureHubClient client)
    {
        client.MessageReceived += (_, message) => OnMessage(message);
        client.HistoryGapDetected += (_, gap) => output.WriteLine(gap.Group is null
            ? "* some messages to everyone may be missing"
            : $"* some messages in {SafeText.Clean(gap.Group)} may be missing");
        client.UserJoined += (_, presence) =>
        {
            if (!IsOwnJoin(client, presence))
            {
                output.WriteLine($"* {SafeText.Clean(presence.User)} joined {SafeText.Clean(presence.Group)}");
            }
        };
        client.UserLeft += (_, presence) => output.WriteLine($"* {SafeText.Clean(presence.User)} left {SafeText.Clean(presence.Group)}");
        client.StateChanged += (_, change) => OnStateChanged(change);
    }

    /// <summary>
    /// Marks a join of <paramref name="group"/> by this console as under way until the result is disposed. The server
    /// announces a join to the group, this connection included, before it answers; the console says "you joined"
    /// itself, so that announcement is not printed. Commands run one at a time, so one mark per group is enough.
    /// </summary>
    public OwnJoin ExpectOwnJoin(string group)
    {
        var join = new OwnJoin(this, group);
        _ownJoins[group] = join;
        return join;
    }

    /// <summary>
    /// Holds the live messages of <paramref name="group"/> until the result prints the group's history: a /join prints
    /// the last messages before the live ones, and a message that came both ways once.
    /// </summary>
    public HistoryHold HoldLive(string group)
    {
        lock (_lock)
        {
            _held[group] = [];
        }

        return new HistoryHold(this, group);
    }

    private void OnMessage(ChatMessage message)
    {
        lock (_lock)
        {
            if (message.Group is not null && _held.TryGetValue(message.Group, out var held))
            {
                held.Add(message);
                return;
            }

            Print(message);
        }
    }

    private void Print(ChatMessage message) => output.WriteLine(message.Group is null
        ? $"<{SafeText.Clean(message.From)}> {SafeText.Clean(message.Text)}"
        : $"[{SafeText.Clean(message.Group)}] <{SafeText.Clean(message.From)}> {SafeText.Clean(message.Text)}");

    private void Release(string group, IReadOnlyList<ChatMessage> history)
    {
        lock (_lock)
        {
            if (!_held.Remove(group, out var held))
            {
                return;
            }

            if (history.Count > 0)
            {
                output.WriteLine($"* last {history.Count} message{(history.Count == 1 ? "" : "s")} in {SafeText.Clean(group)}:");
            }

            HashSet<string> printed = new(StringComparer.Ordinal);
            foreach (var message in history.Concat(held))
            {
                if (message.Id is null || printed.Add(message.Id))
                {
                    Print(message);
                }
            }
        }
    }

    // The announcement of this connection's own join (a /join under way, or the rejoins of a reconnect, which happen
    // before the client is authenticated again); another session of the same user joining is still shown.
    private bool IsOwnJoin(SecureHubClient client, GroupPresence presence)
    {
        if (!string.Equals(presence.User, client.User, StringComparison.Ordinal))
        {
            return false;
        }

        if (_ownJoins.TryRemove(presence.Group, out var join))
        {
            join.Announced.TrySetResult();
            return true;
        }

        return _reconnecting;
    }

    private void OnStateChanged(SecureHubStateChange change)
    {
        switch (change.State)
        {
            case SecureHubState.Reconnecting:
                _reconnecting = true;
                output.WriteLine($"* connection lost ({change.Reason ?? "no reason given"}); reconnecting...");
                break;
            case SecureHubState.Authenticated when _reconnecting:
                _reconnecting = false;
                output.WriteLine("* reconnected");
                break;
            case SecureHubState.Closed:
                if (change.Error is not null)
                {
                    output.WriteLine($"* disconnected: {change.Reason ?? SafeText.Clean(change.Error.Message)}");
                }

                Closed.TrySetResult(change);
                break;
        }
    }

    /// <summary>The live messages of a group held while its history is read.</summary>
    internal sealed class HistoryHold(ChatPrinter printer, string group) : IDisposable
    {
        /// <summary>Prints <paramref name="history"/> (oldest first) and then the held live messages, each once.</summary>
        public void Release(IReadOnlyList<ChatMessage> history) => printer.Release(group, history);

        // The join or the read failed: the held messages still go out.
        public void Dispose() => printer.Release(group, []);
    }

    /// <summary>A join of this console's, whose announcement is not printed.</summary>
    internal sealed class OwnJoin(ChatPrinter printer, string group) : IDisposable
    {
        /// <summary>Completes when the server's announcement of the join has arrived.</summary>
        public TaskCompletionSource Announced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Already a member, or refused: no announcement came to take the mark.
        public void Dispose() => printer._ownJoins.TryRemove(KeyValuePair.Create(group, this));
    }
}
