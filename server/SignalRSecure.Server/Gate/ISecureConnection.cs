namespace SignalRSecure.Server.Gate;

/// <summary>An authenticated hub connection, as the <see cref="IUserConnectionRegistry"/> knows it.</summary>
public interface ISecureConnection
{
    /// <summary>The SignalR connection id.</summary>
    string ConnectionId { get; }

    /// <summary>The authenticated user.</summary>
    string User { get; }

    /// <summary>Sends the SignalR close message with <paramref name="reason"/> (reconnect disallowed) and closes the connection.</summary>
    /// <param name="reason">One of <c>SignalRSecure.Contracts.CloseReasons</c>.</param>
    void Close(string reason);
}

/// <summary>
/// The authenticated connections of each user, so that logout and revocation can close them. The default keeps one
/// process's connections; a shared implementation can fan <see cref="CloseUserConnectionsAsync"/> out to other nodes.
/// </summary>
public interface IUserConnectionRegistry
{
    /// <summary>Records an authenticated connection.</summary>
    void Add(ISecureConnection connection);

    /// <summary>Forgets a connection that closed.</summary>
    void Remove(ISecureConnection connection);

    /// <summary>Closes every connection of <paramref name="user"/> with <paramref name="reason"/>; returns how many.</summary>
    ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default);
}
