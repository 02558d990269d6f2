namespace SignalRSecure.AspNetCore.Gate;

/// <summary>An authenticated hub connection, as the <see cref="IUserConnectionRegistry"/> knows it.</summary>
public interface ISecureConnection
{
    /// <summary>The SignalR connection id.</summary>
    string ConnectionId { get; }

    /// <summary>The authenticated user.</summary>
    string User { get; }

    /// <summary>The groups, or group patterns, the user may join on this connection now.</summary>
    IReadOnlyList<string> Groups { get; }

    /// <summary>Sends the SignalR close message with <paramref name="reason"/> (reconnect disallowed) and closes the connection.</summary>
    /// <param name="reason">One of <c>SignalRSecure.Contracts.CloseReasons</c>.</param>
    void Close(string reason);

    /// <summary>
    /// Gives the connection the groups of a newer ticket of its user; when they differ from its own, the
    /// <see cref="IGroupRightsObserver"/>s end the memberships they no longer allow before this completes.
    /// </summary>
    /// <param name="groups">The groups, or group patterns, of the ticket.</param>
    /// <param name="issuedAt">When the ticket was issued: groups older than the connection's own are ignored.</param>
    /// <param name="cancellationToken">Cancels waiting, not the change.</param>
    /// <returns>A task that completes once the connection has the groups, or has closed.</returns>
    ValueTask UpdateGroupsAsync(IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default);
}
