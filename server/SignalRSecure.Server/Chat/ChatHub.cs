using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Gate;

namespace SignalRSecure.Server.Hubs;

/// <summary>
/// The chat hub: echo, broadcast, and groups the user is allowed to join. Every method here runs only for an
/// authenticated connection; identity comes from the ticket (<see cref="SecureHub{TClient}.CurrentUser"/>), never
/// from an argument.
/// </summary>
public sealed class ChatHub(IGroupRoster roster, IOptions<ChatOptions> options, TimeProvider time) : SecureHub<IChatClient>, IChatHub
{
    private readonly ChatOptions _options = options.Value;

    /// <inheritdoc />
    public Task<string> Echo(string text)
    {
        ValidateText(text);
        return Task.FromResult(text);
    }

    /// <inheritdoc />
    public Task Broadcast(string text)
    {
        ValidateText(text);

        // Clients.All is gated: it reaches authenticated connections only.
        return Clients.All.ReceiveMessage(new ChatMessage(CurrentUser.Name, text, null, time.GetUtcNow()));
    }

    /// <inheritdoc />
    public async Task JoinGroup(string group)
    {
        ValidateGroup(group);
        var user = CurrentUser;
        if (!GroupNames.IsAllowed(user.Groups, group))
        {
            throw new HubException(HubErrors.Forbidden);
        }

        switch (roster.TryJoin(Context.ConnectionId, user.Name, group, _options.MaximumGroupsPerConnection))
        {
            case IGroupRoster.JoinResult.TooManyGroups:
                throw new HubException(HubErrors.TooManyGroups);
            case IGroupRoster.JoinResult.AlreadyMember:
                return;
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, group);

        // A Reauthenticate on another connection of the user may have taken the group away since the check above,
        // and its observer may have looked at the roster before this join: undo, or the membership would outlive
        // the right to it.
        if (!GroupNames.IsAllowed(CurrentUser.Groups, group))
        {
            roster.Leave(Context.ConnectionId, group);
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, group);
            throw new HubException(HubErrors.Forbidden);
        }

        await Clients.Group(group).UserJoined(new GroupPresence(group, user.Name));
    }

    /// <inheritdoc />
    public async Task LeaveGroup(string group)
    {
        ValidateGroup(group);
        if (!roster.Leave(Context.ConnectionId, group))
        {
            throw new HubException(HubErrors.NotAMember);
        }

        await Groups.RemoveFromGroupAsync(Context.ConnectionId, group);

        // As when a connection closes: UserLeft means the user has no connection left in the group, which is what
        // lets a client that receives it for its own user drop the group.
        var user = CurrentUser.Name;
        if (!roster.Members(group).Contains(user, StringComparer.Ordinal))
        {
            await Clients.Group(group).UserLeft(new GroupPresence(group, user));
        }
    }

    /// <inheritdoc />
    public Task SendToGroup(string group, string text)
    {
        ValidateGroup(group);
        ValidateText(text);
        RequireMembership(group);
        return Clients.Group(group).ReceiveMessage(new ChatMessage(CurrentUser.Name, text, group, time.GetUtcNow()));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> GetGroupMembers(string group)
    {
        ValidateGroup(group);
        RequireMembership(group);
        return Task.FromResult(roster.Members(group));
    }

    /// <inheritdoc />
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        // Only an authenticated connection can have joined groups; an unauthenticated one has nothing to announce.
        if (ConnectionGate.From(Context)?.Identity is { } user)
        {
            foreach (var group in roster.RemoveConnection(Context.ConnectionId))
            {
                await Clients.Group(group).UserLeft(new GroupPresence(group, user.Name));
            }
        }

        await base.OnDisconnectedAsync(exception);
    }

    private void ValidateText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new HubException(HubErrors.InvalidMessage);
        }

        if (text.Length > _options.MaximumTextLength)
        {
            throw new HubException(HubErrors.MessageTooLong);
        }
    }

    private static void ValidateGroup(string? group)
    {
        if (!GroupNames.IsValid(group))
        {
            throw new HubException(HubErrors.InvalidGroup);
        }
    }

    private void RequireMembership(string group)
    {
        if (!roster.IsMember(Context.ConnectionId, group))
        {
            throw new HubException(HubErrors.NotAMember);
        }
    }
}
