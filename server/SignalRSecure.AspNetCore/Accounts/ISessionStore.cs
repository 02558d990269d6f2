using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>A signed-in browser or program: what the session cookie stands for.</summary>
/// <param name="Key">The hash of the session id; the id itself lives only in the cookie.</param>
/// <param name="User">The user.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
/// <param name="ExpiresAt">When the session ends.</param>
public sealed record LoginSession(string Key, string User, IReadOnlyList<string> Groups, DateTimeOffset ExpiresAt);

/// <summary>
/// Where login sessions live. The default keeps them in memory; a shared implementation lets several nodes share them.
/// </summary>
public interface ISessionStore
{
    /// <summary>Stores a new session.</summary>
    ValueTask AddAsync(LoginSession session, CancellationToken cancellationToken = default);

    /// <summary>The session with <paramref name="key"/>, or null.</summary>
    ValueTask<LoginSession?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Ends the session with <paramref name="key"/>.</summary>
    ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Ends every session of <paramref name="user"/>.</summary>
    ValueTask RemoveUserAsync(string user, CancellationToken cancellationToken = default);
}

/// <summary>
/// The default <see cref="ISessionStore"/>: one process's memory. Expired sessions are dropped on a timer, once per
/// <see cref="LoginOptions.SessionLifetime"/> but at least every 10 minutes (see <see cref="ExpirySweep"/>).
/// </summary>
internal sealed class InMemorySessionStore : ISessionStore, IDisposable
{
    private readonly ConcurrentDictionary<string, LoginSession> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ITimer _sweep;

    public InMemorySessionStore(TimeProvider time, IOptions<LoginOptions> options)
    {
        _time = time;
        _sweep = ExpirySweep.Start(time, options.Value.SessionLifetime, SweepExpired);
    }

    public int Count => _sessions.Count;

    public ValueTask AddAsync(LoginSession session, CancellationToken cancellationToken = default)
    {
        _sessions[session.Key] = session;
        return ValueTask.CompletedTask;
    }

    public ValueTask<LoginSession?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_sessions.TryGetValue(key, out var session) && session.ExpiresAt > _time.GetUtcNow() ? session : null);

    public ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        _sessions.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveUserAsync(string user, CancellationToken cancellationToken = default)
    {
        foreach (var (key, session) in _sessions)
        {
            if (string.Equals(session.User, user, StringComparison.Ordinal))
            {
                _sessions.TryRemove(key, out _);
            }
        }

        return ValueTask.CompletedTask;
    }

    public void Dispose() => _sweep.Dispose();

    private void SweepExpired()
    {
        var now = _time.GetUtcNow();
        foreach (var (key, session) in _sessions)
        {
            if (session.ExpiresAt <= now)
            {
                _sessions.TryRemove(new KeyValuePair<string, LoginSession>(key, session));
            }
        }
    }
}
