using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// The server refused the ticket passed to <see cref="ISecureHub.Authenticate"/> or <see cref="ISecureHub.Reauthenticate"/>
/// and closed the connection. Terminal: the client does not reconnect. The server never says which check failed.
/// </summary>
public sealed class AuthenticationFailedException : SecureHubClosedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="innerException">The error the server answered with, if any.</param>
    public AuthenticationFailedException(Exception? innerException = null)
        : base("The server refused the ticket (authentication failed).", CloseReasons.AuthenticationFailed, isTerminal: true, innerException)
    {
    }
}
