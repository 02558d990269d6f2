namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Hears when the groups a connection may join change (a <c>Reauthenticate</c> of its user with a ticket that
/// allows other groups), so that the app ends the memberships the connection no longer has a right to. Register
/// implementations as singletons; the gate calls each of them for every connection of the user, on every node the
/// <see cref="IUserConnectionRegistry"/> reaches, before the <c>Reauthenticate</c> answers.
/// </summary>
/// <remarks>
/// The gate knows groups only as the ticket's list of names and patterns; what a membership is belongs to the app.
/// An observer reads the connection's current <see cref="ISecureConnection.Groups"/> rather than remembering what
/// it was told: changes may overlap. If an observer throws, the connection is closed with <c>session expired</c>.
/// </remarks>
public interface IGroupRightsObserver
{
    /// <summary>Called after <paramref name="connection"/> took new groups; ends what they no longer allow.</summary>
    /// <param name="connection">The connection, with its new <see cref="ISecureConnection.Groups"/>.</param>
    /// <param name="cancellationToken">Not cancelled by the gate: a rights change runs to its end.</param>
    /// <returns>A task that completes when the memberships are in line with the groups.</returns>
    ValueTask OnGroupRightsChangedAsync(ISecureConnection connection, CancellationToken cancellationToken);
}
