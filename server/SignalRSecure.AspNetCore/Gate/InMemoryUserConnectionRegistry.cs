using System.Collections.Concurrent;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>The default <see cref="IUserConnectionRegistry"/>: the connections of this process. It never fails, and completes synchronously.</summary>
/// <remarks>
/// Keyed by connection alone: one small entry per authenticated connection instead of a set per user, since most
/// users have one or two connections. Closing a user's connections or changing their groups (logout, revocation,
/// Reauthenticate: rare next to messages) walks all of this process's authenticated connections.
/// </remarks>
internal sealed class InMemoryUserConnectionRegistry : IUserConnectionRegistry
{
    private readonly ConcurrentDictionary<string, ISecureConnection> _connections = new(StringComparer.Ordinal);

    public ValueTask AddAsync(ISecureConnection connection, CancellationToken cancellationToken = default)
    {
        _connections[connection.ConnectionId] = connection;
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveAsync(ISecureConnection connection, CancellationToken cancellationToken = default)
    {
        _connections.TryRemove(new KeyValuePair<string, ISecureConnection>(connection.ConnectionId, connection));
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default)
    {
        var closed = 0;
        foreach (var connection in ConnectionsOf(user))
        {
            connection.Close(reason);
            closed++;
        }

        return ValueTask.FromResult(closed);
    }

    public async ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default)
    {
        var reached = 0;
        foreach (var connection in ConnectionsOf(user))
        {
            await connection.UpdateGroupsAsync(groups, issuedAt, cancellationToken);
            reached++;
        }

        return reached;
    }

    private IEnumerable<ISecureConnection> ConnectionsOf(string user)
    {
        foreach (var (_, connection) in _connections)
        {
            if (string.Equals(connection.User, user, StringComparison.Ordinal))
            {
                yield return connection;
            }
        }
    }
}
