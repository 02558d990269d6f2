using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat.History;

namespace SignalRSecure.Server.Chat;

/// <summary>
/// The chat hub: echo, broadcast, and groups the user is allowed to join. Every method here runs only for an
/// authenticated connection; identity comes from the ticket (<see cref="SecureHub{TClient}.CurrentUser"/>), never
/// from an argument. Membership lives in the <see cref="IGroupRoster"/> alone; SignalR's groups follow it.
/// </summary>
/// <remarks>
/// The roster may be a shared store that fails: a method whose roster call throws answers
/// <see cref="HubErrors.Unavailable"/> (the store's error is logged, never sent), and a failure while a closed
/// connection is cleaned up is logged without failing the disconnect. The same holds for the
/// <see cref="IChatHistory"/>, except when a message is sent: a history that fails then is logged, and the message is
/// delivered live without an id.
/// </remarks>
public sealed class ChatHub(IGroupRoster roster, IChatHistory history, IOptions<ChatOptions> options, TimeProvider time, ILogger<ChatHub> logger)
    : SecureHub<IChatClient>, IChatHub
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
        return AppendAndDeliverAsync(new ChatMessage(CurrentUser.Name, text, null, time.GetUtcNow()), message => Clients.All.ReceiveMessage(message));
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

        var joined = await RosterAsync(
            token => roster.TryJoinAsync(Context.ConnectionId, user.Name, group, _options.MaximumGroupsPerConnection, token));
        switch (joined)
        {
            case IGroupRoster.JoinResult.TooManyGroups:
                throw new HubException(HubErrors.TooManyGroups);
            case IGroupRoster.JoinResult.AlreadyMember:
                return;
        }

        try
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, group);
        }
        catch (Exception ex) when (!Context.ConnectionAborted.IsCancellationRequested)
        {
            // A backplane that cannot subscribe the connection: without the roll-back the roster would list a member
            // that receives nothing from the group.
            ChatLog.GroupAddFailed(logger, Context.ConnectionId, ex);
            await RosterAsync(token => roster.LeaveAsync(Context.ConnectionId, group, token));
            throw new HubException(HubErrors.Unavailable);
        }

        // A Reauthenticate on another connection of the user may have taken the group away since the check above,
        // and its observer may have looked at the roster before this join: undo, or the membership would outlive
        // the right to it.
        if (!GroupNames.IsAllowed(CurrentUser.Groups, group))
        {
            await RosterAsync(token => roster.LeaveAsync(Context.ConnectionId, group, token));
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, group);
            throw new HubException(HubErrors.Forbidden);
        }

        await Clients.Group(group).UserJoined(new GroupPresence(group, user.Name));
    }

    /// <inheritdoc />
    public async Task LeaveGroup(string group)
    {
        ValidateGroup(group);
        if (!await RosterAsync(token => roster.LeaveAsync(Context.ConnectionId, group, token)))
        {
            throw new HubException(HubErrors.NotAMember);
        }

        await Groups.RemoveFromGroupAsync(Context.ConnectionId, group);

        // As when a connection closes: UserLeft means the user has no connection left in the group, which is what
        // lets a client that receives it for its own user drop the group.
        var user = CurrentUser.Name;
        if (!(await RosterAsync(token => roster.MembersAsync(group, token))).Contains(user, StringComparer.Ordinal))
        {
            await Clients.Group(group).UserLeft(new GroupPresence(group, user));
        }
    }

    /// <inheritdoc />
    public async Task SendToGroup(string group, string text)
    {
        ValidateGroup(group);
        ValidateText(text);
        await RequireMembershipAsync(group);
        await AppendAndDeliverAsync(new ChatMessage(CurrentUser.Name, text, group, time.GetUtcNow()), message => Clients.Group(group).ReceiveMessage(message));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> GetGroupMembers(string group)
    {
        ValidateGroup(group);
        await RequireMembershipAsync(group);

        // An array whatever the roster returns: MessagePack writes a result by its runtime type, and fails on list
        // types it cannot rebuild (such as those the compiler makes for collection expressions).
        return (await RosterAsync(token => roster.MembersAsync(group, token))).ToArray();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessage>> GetHistory(string? group, string? beforeId, int? limit)
    {
        var channel = await RequireReadAccessAsync(group);
        if ((beforeId is not null && !ChatMessageIds.IsValid(beforeId)) || limit <= 0)
        {
            throw new HubException(HubErrors.InvalidMessage);
        }

        // The stores answer arrays: a result is written by its runtime type, which MessagePack must be able to rebuild.
        var count = Math.Min(limit ?? _options.HistoryPageSize, _options.HistoryLength);
        return await HistoryAsync(token => history.ReadAsync(channel, beforeId, count, token));
    }

    /// <inheritdoc />
    public async Task<GroupRecovery> RejoinGroup(string? group, string? sinceId)
    {
        // Checked before the join: a bad argument changes nothing.
        if (sinceId is not null && !ChatMessageIds.IsValid(sinceId))
        {
            throw new HubException(HubErrors.InvalidMessage);
        }

        var channel = string.IsNullOrEmpty(group) ? null : group;
        if (channel is not null)
        {
            // Joined before the read: a message sent meanwhile is then live or in the history (or both, and the
            // client drops the second), never neither.
            await JoinGroup(channel);
        }

        if (sinceId is null)
        {
            return new GroupRecovery(Array.Empty<ChatMessage>(), Recovered: true);
        }

        return await HistoryAsync(token => history.ReadSinceAsync(channel, sinceId, token));
    }

    /// <inheritdoc />
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        // Only an authenticated connection can have joined groups; an unauthenticated one has nothing to announce.
        if (TryGetCurrentUser(out var user))
        {
            try
            {
                // Not cancelled with the connection, which is gone already: the cleanup must still run.
                foreach (var group in await roster.RemoveConnectionAsync(Context.ConnectionId, CancellationToken.None))
                {
                    await Clients.Group(group).UserLeft(new GroupPresence(group, user.Name));
                }
            }
            catch (Exception ex)
            {
                // A shared roster that is down must not fail the disconnect: its entries for this connection expire there.
                ChatLog.DisconnectCleanupFailed(logger, Context.ConnectionId, user.Name, ex);
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

    /// <summary>
    /// Allows a history read of the broadcast channel (null or empty) to every authenticated connection, and of a group
    /// to its members whose current ticket still allows it; returns the channel's key for <see cref="IChatHistory"/>.
    /// </summary>
    private async Task<string?> RequireReadAccessAsync(string? group, [CallerMemberName] string hubMethod = "")
    {
        if (string.IsNullOrEmpty(group))
        {
            return null;
        }

        ValidateGroup(group);

        // The ticket is checked too: a Reauthenticate that narrowed the groups ends the membership through its
        // observer, and the history must not stay readable while that runs.
        if (!GroupNames.IsAllowed(CurrentUser.Groups, group))
        {
            throw new HubException(HubErrors.NotAMember);
        }

        await RequireMembershipAsync(group, hubMethod);
        return group;
    }

    /// <summary>
    /// Appends a message to the history and delivers it with its id; a history that fails must not silence the chat,
    /// so the message is then delivered without an id (it cannot be recovered, which the log records).
    /// </summary>
    private async Task AppendAndDeliverAsync(ChatMessage message, Func<ChatMessage, Task> deliver, [CallerMemberName] string hubMethod = "")
    {
        var aborted = Context.ConnectionAborted;
        var delivering = false;
        try
        {
            await history.AppendAsync(
                message,
                stored =>
                {
                    delivering = true;
                    return DeliverAsync(stored);
                },
                aborted);
        }
        catch (Exception ex) when (!delivering && !aborted.IsCancellationRequested)
        {
            ChatLog.HistoryAppendFailed(logger, hubMethod, Context.ConnectionId, ex);
            await DeliverAsync(message);
        }

        // A backplane that cannot publish (Redis unreachable) delivers to nobody, not even on this node: the sender
        // learns it with the contract's retryable error instead of SignalR's unexplained one.
        async Task DeliverAsync(ChatMessage stored)
        {
            try
            {
                await deliver(stored);
            }
            catch (Exception ex) when (!aborted.IsCancellationRequested)
            {
                ChatLog.DeliveryFailed(logger, hubMethod, Context.ConnectionId, ex);
                throw new HubException(HubErrors.Unavailable);
            }
        }
    }

    /// <summary>Runs one history read; a store that fails becomes <see cref="HubErrors.Unavailable"/>, its exception goes to the log only.</summary>
    private async Task<T> HistoryAsync<T>(Func<CancellationToken, ValueTask<T>> call, [CallerMemberName] string hubMethod = "")
    {
        var aborted = Context.ConnectionAborted;
        try
        {
            return await call(aborted);
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested)
        {
            ChatLog.HistoryFailed(logger, hubMethod, Context.ConnectionId, ex);
            throw new HubException(HubErrors.Unavailable);
        }
    }

    private async Task RequireMembershipAsync(string group, [CallerMemberName] string hubMethod = "")
    {
        if (!await RosterAsync(token => roster.IsMemberAsync(Context.ConnectionId, group, token), hubMethod))
        {
            throw new HubException(HubErrors.NotAMember);
        }
    }

    /// <summary>
    /// Runs one roster call for the connection; a store that fails becomes <see cref="HubErrors.Unavailable"/>, and its
    /// exception (which may name hosts or carry its own text) goes to the log only.
    /// </summary>
    private async Task<T> RosterAsync<T>(Func<CancellationToken, ValueTask<T>> call, [CallerMemberName] string hubMethod = "")
    {
        var aborted = Context.ConnectionAborted;
        try
        {
            return await call(aborted);
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested)
        {
            ChatLog.RosterFailed(logger, hubMethod, Context.ConnectionId, ex);
            throw new HubException(HubErrors.Unavailable);
        }
    }
}
