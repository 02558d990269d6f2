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
}
