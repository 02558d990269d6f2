using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;

namespace SignalRSecure.Server.Chat;

/// <summary>
/// Ends the chat memberships a connection lost the right to when its user's groups changed: out of the roster and
/// SignalR's group at once. The connection receives <c>UserLeft</c> with its own user, so that its client stops
/// re-joining the group, and the remaining members receive it once the user has no connection left in the group.
/// </summary>
/// <remarks>A roster that fails makes this throw, and the gate then closes the connection: no membership outlives the right to it.</remarks>
internal sealed class ChatGroupRightsObserver(IGroupRoster roster, IHubContext<ChatHub, IChatClient> hub) : IGroupRightsObserver
{
    public async ValueTask OnGroupRightsChangedAsync(ISecureConnection connection, CancellationToken cancellationToken)
    {
        foreach (var group in await roster.GroupsOfAsync(connection.ConnectionId, cancellationToken))
        {
            // The connection's groups are read for each membership: a later change may have arrived meanwhile.
            if (GroupNames.IsAllowed(connection.Groups, group) || !await roster.LeaveAsync(connection.ConnectionId, group, cancellationToken))
            {
                continue;
            }

            await hub.Groups.RemoveFromGroupAsync(connection.ConnectionId, group, cancellationToken);
            var presence = new GroupPresence(group, connection.User);
            await hub.Clients.Client(connection.ConnectionId).UserLeft(presence);
            if (!(await roster.MembersAsync(group, cancellationToken)).Contains(connection.User, StringComparer.Ordinal))
            {
                await hub.Clients.Group(group).UserLeft(presence);
            }
        }
    }
}
