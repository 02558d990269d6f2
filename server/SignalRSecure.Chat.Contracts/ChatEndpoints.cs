namespace SignalRSecure.Chat.Contracts;

/// <summary>The paths of the chat application, next to the gate's own in <c>SignalRSecure.Contracts.SecureEndpoints</c>.</summary>
public static class ChatEndpoints
{
    /// <summary>The chat hub (<see cref="IChatHub"/>).</summary>
    public const string Hub = "/hubs/chat";
}
