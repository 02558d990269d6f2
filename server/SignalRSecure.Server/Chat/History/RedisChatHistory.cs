using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.Server.Chat.History;

/// <summary>
/// The history shared by every node, in Redis: one stream per group (<c>{ChannelPrefix}history:{group}</c>, the
/// broadcast channel <c>{ChannelPrefix}history-all</c>), appended with <c>XADD ... MAXLEN ~ HistoryLength</c> and a key
/// time to live of <see cref="ChatOptions.HistoryLifetime"/> refreshed on every write, read with <c>XREVRANGE</c>.
/// Message ids are the stream ids, so they are the same on every node; each is the sending node's clock in
/// milliseconds (never below the stream's last id) and Redis's sequence within it, the shape of the in-memory ids.
/// </summary>
/// <remarks>
/// Entries older than the lifetime are skipped on reads (the nodes' clocks must agree, as for the other shared
/// counters). A stream whose key expired (a group silent for longer than the lifetime) is gone, and a recovery into it
/// answers not recovered: nothing tells whether messages were lost.
/// </remarks>
internal sealed class RedisChatHistory(
    ISignalRSecureRedisConnection redis, IOptions<RedisOptions> redisOptions, IOptions<ChatOptions> options, TimeProvider time) : IChatHistory
{
    private const string Field = "m";

    // The id's millisecond is the node's clock, raised to the stream's last one so that XADD never refuses it; Redis
    // picks the sequence within the millisecond. One script, so that no other append slips between the read and the add.
    private static readonly LuaScript Append = LuaScript.Prepare("""
        local ms = @ms
        local last = redis.call('XREVRANGE', @key, '+', '-', 'COUNT', 1)
        if last[1] then
          local lastMs = string.match(last[1][1], '^(%d+)-')
          if tonumber(lastMs) > tonumber(ms) then ms = lastMs end
        end
        local id = redis.call('XADD', @key, 'MAXLEN', '~', @length, ms .. '-*', 'm', @message)
        redis.call('PEXPIRE', @key, @lifetime)
        return id
        """);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ChatOptions _options = options.Value;
    private readonly string _prefix = redisOptions.Value.ChannelPrefix;
    private readonly GroupTurns _turns = new();

    public async ValueTask AppendAsync(ChatMessage message, Func<ChatMessage, Task> deliver, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(deliver);
        using (await _turns.EnterAsync(message.Group, cancellationToken).ConfigureAwait(false))
        {
            var database = await redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var id = (string?)await database.ScriptEvaluateAsync(Append, new
            {
                key = Key(message.Group),
                ms = time.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                length = _options.HistoryLength,
                message = JsonSerializer.Serialize(message with { Id = null }, Json),
                lifetime = (long)_options.HistoryLifetime.TotalMilliseconds,
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
            await deliver(message with { Id = id }).ConfigureAwait(false);
        }
    }

    public async ValueTask<IReadOnlyList<ChatMessage>> ReadAsync(string? group, string? beforeId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var database = await redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var entries = await database.StreamRangeAsync(
            Key(group), minId: OldestLiveId(), maxId: beforeId is null ? "+" : "(" + beforeId, count: limit, messageOrder: Order.Descending)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return entries.Reverse().Select(ToMessage).ToArray();
    }

    public async ValueTask<GroupRecovery> ReadSinceAsync(string? group, string sinceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sinceId);
        var database = await redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);

        // Newest first, down to the client's own last message when the stream still holds it: its presence proves that
        // nothing after it was trimmed, since trimming takes the oldest first.
        var entries = await database.StreamRangeAsync(
            Key(group), minId: sinceId, maxId: "+", count: _options.HistoryLength + 1, messageOrder: Order.Descending)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        var holdsSince = entries.Length > 0 && entries[^1].Id == sinceId;
        var oldestLive = OldestLiveId();
        var missed = entries
            .Where(e => e.Id != sinceId)
            .Take(_options.HistoryLength)
            .Reverse()
            .ToArray();
        var live = missed.Where(e => ChatMessageIds.Compare((string)e.Id!, oldestLive) >= 0).ToArray();

        // An expired message after the client's last one is one it missed and cannot get.
        return new GroupRecovery(live.Select(ToMessage).ToArray(), holdsSince && live.Length == missed.Length);
    }

    private RedisKey Key(string? group) => group is null ? _prefix + "history-all" : _prefix + "history:" + group;

    private string OldestLiveId() =>
        ChatMessageIds.Format((ulong)Math.Max(0, (time.GetUtcNow() - _options.HistoryLifetime).ToUnixTimeMilliseconds() + 1), 0);

    private static ChatMessage ToMessage(StreamEntry entry)
    {
        var message = JsonSerializer.Deserialize<ChatMessage>((string)entry[Field]!, Json)
            ?? throw new InvalidDataException("An empty history entry.");
        return message with { Id = entry.Id };
    }
}
