using System.Reflection;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;

namespace SignalRSecure.Tests.Unit;

/// <summary>A caller context whose features hold a gate, as a secure hub's context does.</summary>
internal sealed class FakeCallerContext : HubCallerContext
{
    private readonly FeatureCollection _features = new();

    public FakeCallerContext(ConnectionGate gate, string connectionId)
    {
        _features.Set<IConnectionUserFeature>(gate);
        ConnectionId = connectionId;
    }

    public override string ConnectionId { get; }

    public override string? UserIdentifier => null;

    public override ClaimsPrincipal? User => null;

    public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

    public override IFeatureCollection Features => _features;

    public override CancellationToken ConnectionAborted => CancellationToken.None;

    public override void Abort()
    {
    }
}

/// <summary>Records every callback the hub sends, with its audience.</summary>
internal sealed class RecordingClients : IHubCallerClients<IChatClient>
{
    public List<(string Audience, string Method, object Payload)> Sent { get; } = [];

    public IChatClient All => new Recorder(this, "all");

    public IChatClient Caller => new Recorder(this, "caller");

    public IChatClient Others => new Recorder(this, "others");

    public IChatClient AllExcept(IReadOnlyList<string> excludedConnectionIds) => new Recorder(this, "all-except");

    public IChatClient Client(string connectionId) => new Recorder(this, $"connection:{connectionId}");

    public IChatClient Clients(IReadOnlyList<string> connectionIds) => new Recorder(this, "connections");

    public IChatClient Group(string groupName) => new Recorder(this, $"group:{groupName}");

    public IChatClient GroupExcept(string groupName, IReadOnlyList<string> excludedConnectionIds) => new Recorder(this, $"group-except:{groupName}");

    public IChatClient Groups(IReadOnlyList<string> groupNames) => new Recorder(this, "groups");

    public IChatClient OthersInGroup(string groupName) => new Recorder(this, $"others-in:{groupName}");

    public IChatClient User(string userId) => new Recorder(this, $"user:{userId}");

    public IChatClient Users(IReadOnlyList<string> userIds) => new Recorder(this, "users");

    private sealed class Recorder(RecordingClients owner, string audience) : IChatClient
    {
        public Task ReceiveMessage(ChatMessage message) => Record(nameof(ReceiveMessage), message);

        public Task UserJoined(GroupPresence presence) => Record(nameof(UserJoined), presence);

        public Task UserLeft(GroupPresence presence) => Record(nameof(UserLeft), presence);

        private Task Record(string method, object payload)
        {
            owner.Sent.Add((audience, method, payload));
            return Task.CompletedTask;
        }
    }
}

/// <summary>Records SignalR group changes, and which connection is in which group after them.</summary>
internal sealed class RecordingGroups : IGroupManager
{
    public List<string> Changes { get; } = [];

    public HashSet<(string ConnectionId, string Group)> Current { get; } = [];

    public Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        Changes.Add($"+{groupName}");
        Current.Add((connectionId, groupName));
        return Task.CompletedTask;
    }

    public Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        Changes.Add($"-{groupName}");
        Current.Remove((connectionId, groupName));
        return Task.CompletedTask;
    }
}

/// <summary>The chat hub's context for code outside the hub, on the recording fakes.</summary>
internal sealed class RecordingHubContext(RecordingClients clients, RecordingGroups groups) : IHubContext<ChatHub, IChatClient>
{
    public IHubClients<IChatClient> Clients => clients;

    public IGroupManager Groups => groups;
}

internal static class HubInvocations
{
    /// <summary>An invocation context for <paramref name="method"/> of <typeparamref name="THub"/>.</summary>
    public static HubInvocationContext For<THub>(HubCallerContext context, Hub hub, string method, params object?[] arguments) =>
        new(context, EmptyServices.Instance, hub, typeof(THub).GetMethod(method, BindingFlags.Public | BindingFlags.Instance)!, arguments);

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
