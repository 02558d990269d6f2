using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// The hub connection closed: a call was in flight when it did, or the client has stopped for good and the call
/// cannot be made. <see cref="Reason"/> is the server's close reason, if it gave one.
/// </summary>
public class SecureHubClosedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened, without any secret.</param>
    /// <param name="reason">One of <see cref="CloseReasons"/>, or null when the server gave none.</param>
    /// <param name="isTerminal">Whether the client has stopped and will not reconnect.</param>
    /// <param name="innerException">What the connection failed with, if anything.</param>
    public SecureHubClosedException(string message, string? reason, bool isTerminal, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        IsTerminal = isTerminal;
    }

    /// <summary>One of <see cref="CloseReasons"/>, or null for a transport drop, a close without reason, or a local stop.</summary>
    public string? Reason { get; }

    /// <summary>
    /// True when the client has stopped for good (a terminal close reason, a refused ticket, the reconnect policy gave up,
    /// or the client was stopped); false when the connection dropped and the client is reconnecting.
    /// </summary>
    public bool IsTerminal { get; }
}
