namespace SignalRSecure.Server.Gate;

/// <summary>The default <see cref="IUserConnectionRegistry"/>: the connections of this process.</summary>
internal sealed class InMemoryUserConnectionRegistry : IUserConnectionRegistry
{
    // One lock: it is taken only when a connection authenticates or closes, and it keeps add, remove and
    // close-all consistent without the empty-set races of nested concurrent dictionaries.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, ISecureConnection>> _byUser = new(StringComparer.Ordinal);

    public void Add(ISecureConnection connection)
    {
        lock (_lock)
        {
            if (!_byUser.TryGetValue(connection.User, out var connections))
            {
                _byUser[connection.User] = connections = new(StringComparer.Ordinal);
            }

            connections[connection.ConnectionId] = connection;
        }
    }

    public void Remove(ISecureConnection connection)
    {
        lock (_lock)
        {
            if (_byUser.TryGetValue(connection.User, out var connections)
                && connections.Remove(connection.ConnectionId)
                && connections.Count == 0)
            {
                _byUser.Remove(connection.User);
            }
        }
    }

    public ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default)
    {
        ISecureConnection[] toClose;
        lock (_lock)
        {
            toClose = _byUser.TryGetValue(user, out var connections) ? [.. connections.Values] : [];
        }

        foreach (var connection in toClose)
        {
            connection.Close(reason);
        }

        return ValueTask.FromResult(toClose.Length);
    }
}
