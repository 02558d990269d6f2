using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// One physical connection to the hub, used once: started, invoked on, closed. <see cref="SecureHubClient"/> opens a
/// new one for every (re)connection, so that nothing meant for one connection can go out on another.
/// </summary>
internal interface IHubLink : IAsyncDisposable
{
    /// <summary>Completes when the connection has closed, with what it closed with (null for a close without error).</summary>
    Task<Exception?> Closed { get; }

    /// <summary>Opens the connection and completes the SignalR handshake.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Invokes a hub method and waits for its completion.</summary>
    /// <exception cref="HubLinkInactiveException">The connection was no longer open: nothing was sent.</exception>
    Task<TResult> InvokeAsync<TResult>(string methodName, object?[] arguments, CancellationToken cancellationToken);
}

/// <summary>Opens a link whose server callbacks go to <paramref name="callbacks"/>.</summary>
internal delegate IHubLink HubLinkFactory(IChatClient callbacks);

/// <summary>An invocation was refused because its link had already closed; it never reached the server.</summary>
internal sealed class HubLinkInactiveException(Exception? innerException = null)
    : InvalidOperationException("The hub connection is no longer open.", innerException);
