namespace SignalRSecure.Contracts;

/// <summary>
/// The methods every hub behind the gate has, whatever else it offers: a hub contract extends this interface
/// (<c>IChatHub : ISecureHub</c>). Method names go on the wire as written here, so clients use
/// <c>nameof(ISecureHub.Authenticate)</c>.
/// </summary>
/// <remarks>
/// Before <see cref="Authenticate"/> succeeds a connection may invoke <see cref="Authenticate"/> and nothing else;
/// any other message closes it with <see cref="CloseReasons.AuthenticationRequired"/>.
/// </remarks>
public interface ISecureHub
{
    /// <summary>Redeems a single-use ticket; must be the connection's first invocation.</summary>
    /// <param name="ticket">The ticket from <see cref="SecureEndpoints.Ticket"/> or <see cref="SecureEndpoints.IssueTicket"/>.</param>
    /// <returns>The user, the groups the user may join and the end of the session.</returns>
    Task<AuthenticateResult> Authenticate(string ticket);

    /// <summary>Redeems a fresh ticket of the same user to extend the session of a live connection.</summary>
    /// <param name="ticket">A fresh ticket of the connection's user.</param>
    /// <returns>The new end of the session.</returns>
    Task<ReauthenticateResult> Reauthenticate(string ticket);
}
