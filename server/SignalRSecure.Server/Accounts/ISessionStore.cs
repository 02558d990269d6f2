using System.Collections.Concurrent;

namespace SignalRSecure.Server.Accounts;

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

/// <summary>The default <see cref="ISessionStore"/>: one process's memory.</summary>
internal sealed class InMemorySessionStore(TimeProvider time) : ISessionStore
{
    private const int SweepEvery = 256;

    private readonly ConcurrentDictionary<string, LoginSession> _sessions = new(StringComparer.Ordinal);
    private int _additions;

    public ValueTask AddAsync(LoginSession session, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Increment(ref _additions) % SweepEvery == 0)
        {
            var now = time.GetUtcNow();
            foreach (var (key, stored) in _sessions)
            {
                if (stored.ExpiresAt <= now)
                {
                    _sessions.TryRemove(key, out _);
                }
            }
        }

        _sessions[session.Key] = session;
        return ValueTask.CompletedTask;
    }

    public ValueTask<LoginSession?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_sessions.TryGetValue(key, out var session) && session.ExpiresAt > time.GetUtcNow() ? session : null);

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
}
