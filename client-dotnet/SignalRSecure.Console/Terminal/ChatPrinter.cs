using SignalRSecure.Client;
using SignalRSecure.Contracts;

namespace SignalRSecure.ChatConsole.Terminal;

/// <summary>Prints what arrives from the hub, as plain text with other users' control characters removed.</summary>
internal sealed class ChatPrinter(TextWriter output)
{
    private bool _reconnecting;

    /// <summary>Completes when the client has closed for good, with why.</summary>
    public TaskCompletionSource<SecureHubStateChange> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Attach(SecureHubClient client)
    {
        client.MessageReceived += (_, message) => output.WriteLine(message.Group is null
            ? $"<{SafeText.Clean(message.From)}> {SafeText.Clean(message.Text)}"
            : $"[{SafeText.Clean(message.Group)}] <{SafeText.Clean(message.From)}> {SafeText.Clean(message.Text)}");
        client.UserJoined += (_, presence) => output.WriteLine($"* {SafeText.Clean(presence.User)} joined {SafeText.Clean(presence.Group)}");
        client.UserLeft += (_, presence) => output.WriteLine($"* {SafeText.Clean(presence.User)} left {SafeText.Clean(presence.Group)}");
        client.StateChanged += (_, change) => OnStateChanged(change);
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
}
