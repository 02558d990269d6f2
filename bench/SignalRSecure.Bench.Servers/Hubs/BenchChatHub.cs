using Microsoft.AspNetCore.SignalR;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Bench.Servers.Hubs;

/// <summary>
/// The chat hub's methods as a stock SignalR hub would write them: the same arguments, the same validation and the
/// same messages on the wire as <c>ChatHub</c>, without the gate.
/// </summary>
public abstract class BenchChatHub(TimeProvider time) : Hub<IChatClient>
{
    // The real hub's default SignalRSecure:Chat:MaximumTextLength.
    private const int MaximumTextLength = 4096;

    // The name the gated hub's benchmark user has, so that every variant sends messages of the same size.
    private const string AnonymousName = "bench";

    /// <summary>Returns <paramref name="text"/>.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The same text.</returns>
    public Task<string> Echo(string text)
    {
        ValidateText(text);
        return Task.FromResult(text);
    }

    /// <summary>Sends <paramref name="text"/> to every connection.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>A task that completes once the message is queued for every connection.</returns>
    public Task Broadcast(string text)
    {
        ValidateText(text);
        return Clients.All.ReceiveMessage(new ChatMessage(UserName, text, null, time.GetUtcNow()));
    }

    /// <summary>Joins <paramref name="group"/> and tells its members.</summary>
    /// <param name="group">A group name.</param>
    /// <returns>A task that completes once the members are told.</returns>
    public async Task JoinGroup(string group)
    {
        ValidateGroup(group);
        await Groups.AddToGroupAsync(Context.ConnectionId, group);
        await Clients.Group(group).UserJoined(new GroupPresence(group, UserName));
    }

    /// <summary>Sends <paramref name="text"/> to the members of <paramref name="group"/>.</summary>
    /// <param name="group">A group name.</param>
    /// <param name="text">Any text.</param>
    /// <returns>A task that completes once the message is queued for every member.</returns>
    public Task SendToGroup(string group, string text)
    {
        ValidateGroup(group);
        ValidateText(text);
        return Clients.Group(group).ReceiveMessage(new ChatMessage(UserName, text, group, time.GetUtcNow()));
    }

    private string UserName => Context.UserIdentifier ?? AnonymousName;

    private static void ValidateText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new HubException(HubErrors.InvalidMessage);
        }

        if (text.Length > MaximumTextLength)
        {
            throw new HubException(HubErrors.MessageTooLong);
        }
    }

    private static void ValidateGroup(string? group)
    {
        if (string.IsNullOrEmpty(group) || group.Length > 64 || !group.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
        {
            throw new HubException(HubErrors.InvalidGroup);
        }
    }
}

/// <summary>Variant A: the hub with no authentication at all.</summary>
/// <param name="time">The clock of <c>sentAt</c>.</param>
public sealed class PlainChatHub(TimeProvider time) : BenchChatHub(time);
