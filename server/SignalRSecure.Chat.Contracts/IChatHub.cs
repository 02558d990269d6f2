namespace SignalRSecure.Contracts;

/// <summary>
/// The methods a client may invoke on the chat hub at <see cref="SecureEndpoints.ChatHub"/>.
/// Method names go on the wire as written here, so clients use <c>nameof(IChatHub.Echo)</c>.
/// </summary>
/// <remarks>
/// Before <see cref="Authenticate"/> succeeds a connection may invoke <see cref="Authenticate"/> and nothing else;
/// any other message closes it with <see cref="CloseReasons.AuthenticationRequired"/>.
/// </remarks>
public interface IChatHub
{
    /// <summary>Redeems a single-use ticket; must be the connection's first invocation.</summary>
    Task<AuthenticateResult> Authenticate(string ticket);

    /// <summary>Redeems a fresh ticket of the same user to extend the session of a live connection.</summary>
    Task<ReauthenticateResult> Reauthenticate(string ticket);

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
