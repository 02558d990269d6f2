using SignalRSecure.Contracts;

namespace SignalRSecure.Chat.Contracts;

/// <summary>
/// The methods a client may invoke on the chat hub at <see cref="ChatEndpoints.Hub"/>: those of every gated hub
/// (<see cref="ISecureHub.Authenticate"/>, <see cref="ISecureHub.Reauthenticate"/>) and the chat's own.
/// Method names go on the wire as written here, so clients use <c>nameof(IChatHub.Echo)</c>.
/// </summary>
/// <remarks>
/// Before <see cref="ISecureHub.Authenticate"/> succeeds a connection may invoke it and nothing else; any other
/// message closes it with <see cref="CloseReasons.AuthenticationRequired"/>. A method whose shared store fails
/// answers <see cref="HubErrors.Unavailable"/>, which a client may retry.
/// </remarks>
public interface IChatHub : ISecureHub
{
    /// <summary>Returns <paramref name="text"/> to the caller.</summary>
    Task<string> Echo(string text);

    /// <summary>Sends <paramref name="text"/> to every authenticated connection as <see cref="IChatClient.ReceiveMessage"/>.</summary>
    Task Broadcast(string text);

    /// <summary>Joins a group the user is allowed to join; members receive <see cref="IChatClient.UserJoined"/>.</summary>
    Task JoinGroup(string group);

    /// <summary>Leaves a group; the remaining members receive <see cref="IChatClient.UserLeft"/>.</summary>
    Task LeaveGroup(string group);

    /// <summary>Sends <paramref name="text"/> to the members of a group the caller has joined.</summary>
    Task SendToGroup(string group, string text);

    /// <summary>Lists the users online in a group the caller has joined.</summary>
    Task<IReadOnlyList<string>> GetGroupMembers(string group);

    /// <summary>
    /// Reads the history of a group the caller has joined, or of the broadcast channel when <paramref name="group"/> is
    /// null or empty: the newest messages older than <paramref name="beforeId"/> (or the newest of all when it is
    /// null), oldest first, at most <paramref name="limit"/> of them (null for the server's default page size; the
    /// server caps it at its history length).
    /// </summary>
    Task<IReadOnlyList<ChatMessage>> GetHistory(string? group, string? beforeId, int? limit);

    /// <summary>
    /// Joins a group as <see cref="JoinGroup"/> does (being a member already is fine) and returns the messages of the
    /// group after <paramref name="sinceId"/>, the id of the last message the client delivered from it; a null
    /// <paramref name="group"/> (or empty) means the broadcast channel, which needs no join. A client delivers the
    /// recovered messages before any live one and drops every message whose id is not newer than the last it delivered.
    /// </summary>
    Task<GroupRecovery> RejoinGroup(string? group, string? sinceId);
}
