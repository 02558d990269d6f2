using System.Text.Json;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.StackExchangeRedis.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Accounts;

/// <summary>
/// Login sessions in Redis, so that a cookie from one node mints tickets on another and logging out anywhere ends the
/// session everywhere. Each session is one key (the hash of its id) that expires with the session; a set per user lists
/// the user's sessions for revocation.
/// </summary>
internal sealed class RedisSessionStore(RedisConnection redis, RedisKeys keys, TimeProvider time) : ISessionStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask AddAsync(LoginSession session, CancellationToken cancellationToken = default)
    {
        var lifetime = session.ExpiresAt - time.GetUtcNow();
        if (lifetime <= TimeSpan.Zero)
        {
            return;
        }

        var database = await redis.GetDatabaseAsync(cancellationToken);
        var batch = database.CreateBatch();
        Task[] writes =
        [
            batch.StringSetAsync(keys.Session(session.Key), JsonSerializer.SerializeToUtf8Bytes(session, Json), lifetime),
            batch.SetAddAsync(keys.UserSessions(session.User), session.Key),

            // Sessions have one lifetime, so the newest expires last.
            batch.KeyExpireAsync(keys.UserSessions(session.User), lifetime),
        ];
        batch.Execute();
        await Task.WhenAll(writes).WaitAsync(cancellationToken);
    }

    public async ValueTask<LoginSession?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var value = await database.StringGetAsync(keys.Session(key)).WaitAsync(cancellationToken);
        var session = value.IsNull ? null : JsonSerializer.Deserialize<LoginSession>((byte[])value!, Json);

        // Redis expires the key itself; the check covers a clock between the two.
        return session is not null && session.ExpiresAt > time.GetUtcNow() ? session : null;
    }

    public async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        await database.KeyDeleteAsync(keys.Session(key)).WaitAsync(cancellationToken);
    }

    public async ValueTask RemoveUserAsync(string user, CancellationToken cancellationToken = default)
    {
        var database = await redis.GetDatabaseAsync(cancellationToken);
        var sessions = await database.SetMembersAsync(keys.UserSessions(user)).WaitAsync(cancellationToken);
        var deletions = sessions.Select(key => database.KeyDeleteAsync(keys.Session(key!))).Append(database.KeyDeleteAsync(keys.UserSessions(user)));
        await Task.WhenAll(deletions).WaitAsync(cancellationToken);
    }
}
