using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;

namespace SignalRSecure.Server.Chat;

/// <summary>
/// Announces <c>UserLeft</c> for a connection a shared roster swept after its node stopped, exactly as
/// <see cref="ChatHub.OnDisconnectedAsync"/> does for one that closed: to each group its user has no connection left in.
/// The hub context's messages reach every node through the backplane.
/// </summary>
internal sealed class ChatDepartureObserver(IHubContext<ChatHub, IChatClient> hub) : IGroupDepartureObserver
{
    public async ValueTask OnConnectionRemovedAsync(string connectionId, string user, IReadOnlyList<string> groupsLeft, CancellationToken cancellationToken)
    {
        foreach (var group in groupsLeft)
        {
            await hub.Clients.Group(group).UserLeft(new GroupPresence(group, user));
        }
    }
}
