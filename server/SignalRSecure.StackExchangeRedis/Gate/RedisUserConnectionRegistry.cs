using System.Text.Json;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Gate;

/// <summary>
/// The <see cref="IUserConnectionRegistry"/> of a node among several: each node keeps its own connections in memory,
/// and closing a user's connections or changing their groups is applied here and published on the registry channel
/// (<see cref="RedisKeys.Registry"/>), where every other node applies it to its own.
/// </summary>
/// <remarks>
/// A node subscribes when its first connection authenticates (a node without connections has nothing to apply), and
/// that subscription failing fails the Authenticate as unavailable. Publishing is at most once, like SignalR's
/// backplane: a node cut off from Redis at that moment misses the command. The counts returned are this node's
/// connections only; the other nodes' are not waited for.
/// </remarks>
internal sealed class RedisUserConnectionRegistry(RedisConnection redis, RedisKeys keys, RedisNode node, ILogger<RedisUserConnectionRegistry> logger) : IUserConnectionRegistry
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly InMemoryUserConnectionRegistry _local = new();
    private readonly string _node = node.Id;
    private readonly SemaphoreSlim _subscribing = new(1, 1);
    private volatile bool _subscribed;

    public async ValueTask AddAsync(ISecureConnection connection, CancellationToken cancellationToken = default)
    {
        await EnsureSubscribedAsync(cancellationToken);
        await _local.AddAsync(connection, cancellationToken);
    }

    public ValueTask RemoveAsync(ISecureConnection connection, CancellationToken cancellationToken = default) =>
        _local.RemoveAsync(connection, cancellationToken);

    public async ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default)
    {
        var closed = await _local.CloseUserConnectionsAsync(user, reason, cancellationToken);
        await PublishAsync(new RegistryCommand(_node, user, reason, null, default), cancellationToken);
        return closed;
    }

    public async ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default)
    {
        var reached = await _local.UpdateUserGroupsAsync(user, groups, issuedAt, cancellationToken);
        await PublishAsync(new RegistryCommand(_node, user, null, groups, issuedAt), cancellationToken);
        return reached;
    }

    private async ValueTask PublishAsync(RegistryCommand command, CancellationToken cancellationToken)
    {
        var subscriber = await redis.GetSubscriberAsync(cancellationToken);
        await subscriber.PublishAsync(keys.Registry, JsonSerializer.SerializeToUtf8Bytes(command, Json)).WaitAsync(cancellationToken);
    }

    private async ValueTask EnsureSubscribedAsync(CancellationToken cancellationToken)
    {
        if (_subscribed)
        {
            return;
        }

        await _subscribing.WaitAsync(cancellationToken);
        try
        {
            if (!_subscribed)
            {
                var subscriber = await redis.GetSubscriberAsync(cancellationToken);
                var queue = await subscriber.SubscribeAsync(keys.Registry).WaitAsync(cancellationToken);
                queue.OnMessage(OnCommandAsync);
                _subscribed = true;
            }
        }
        finally
        {
            _subscribing.Release();
        }
    }

    private async Task OnCommandAsync(ChannelMessage message)
    {
        try
        {
            var command = JsonSerializer.Deserialize<RegistryCommand>((byte[])message.Message!, Json);
            if (command is null || command.Node == _node || string.IsNullOrEmpty(command.User))
            {
                return;
            }

            // Only the documented close reasons: the text reaches clients.
            if (command.Reason is { } reason && CloseReasons.IsTerminalByReason.ContainsKey(reason))
            {
                await _local.CloseUserConnectionsAsync(command.User, reason);
            }
            else if (command.Groups is { } groups)
            {
                await _local.UpdateUserGroupsAsync(command.User, groups, command.IssuedAt);
            }
        }
        catch (Exception ex)
        {
            RedisLog.RegistryCommandFailed(logger, ex);
        }
    }
}
