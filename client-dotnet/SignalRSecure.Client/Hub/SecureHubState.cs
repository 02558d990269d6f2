namespace SignalRSecure.Client;

/// <summary>Where a <see cref="SecureHubClient"/> stands.</summary>
public enum SecureHubState
{
    /// <summary>Created; <see cref="SecureHubClient.ConnectAsync"/> has not been called.</summary>
    Disconnected,

    /// <summary>Opening the first connection and authenticating it.</summary>
    Connecting,

    /// <summary>Authenticated: calls go to the server.</summary>
    Authenticated,

    /// <summary>The connection dropped or closed with a retryable reason; calls wait until a new connection has authenticated.</summary>
    Reconnecting,

    /// <summary>Stopped for good; calls fail with <see cref="SecureHubClosedException"/>.</summary>
    Closed,
}

/// <summary>A change of <see cref="SecureHubClient.State"/>.</summary>
/// <param name="State">The new state.</param>
/// <param name="Reason">For <see cref="SecureHubState.Reconnecting"/> and <see cref="SecureHubState.Closed"/>: the server's close reason, if it gave one.</param>
/// <param name="Error">For <see cref="SecureHubState.Reconnecting"/>: why the connection ended; for <see cref="SecureHubState.Closed"/>: why the client stopped, or null when it was stopped.</param>
public sealed record SecureHubStateChange(SecureHubState State, string? Reason = null, Exception? Error = null);
