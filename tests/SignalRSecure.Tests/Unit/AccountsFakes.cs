using System.Collections.Concurrent;
using System.Net;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary>A session store that keeps sessions by key and records every call, in order.</summary>
internal sealed class RecordingSessionStore : ISessionStore
{
    private readonly ConcurrentDictionary<string, LoginSession> _sessions = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Calls { get; } = new();

    public IReadOnlyCollection<LoginSession> Sessions => [.. _sessions.Values];

    public ValueTask AddAsync(LoginSession session, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue($"Add {session.User}");
        _sessions[session.Key] = session;
        return ValueTask.CompletedTask;
    }

    public ValueTask<LoginSession?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue($"Get {key}");
        return ValueTask.FromResult(_sessions.TryGetValue(key, out var session) ? session : null);
    }

    public ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue($"Remove {key}");
        _sessions.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveUserAsync(string user, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue($"RemoveUser {user}");
        foreach (var (key, session) in _sessions)
        {
            if (session.User == user)
            {
                _sessions.TryRemove(key, out _);
            }
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>A login throttle that answers as told and records who asked.</summary>
internal sealed class ScriptedLoginThrottle(bool acquired = true, TimeSpan retryAfter = default) : ILoginThrottle
{
    public List<(IPAddress? Ip, string? User)> Calls { get; } = [];

    public ValueTask<(bool Acquired, TimeSpan RetryAfter)> TryAcquireAsync(IPAddress? ip, string? username, CancellationToken cancellationToken = default)
    {
        Calls.Add((ip, username));
        return ValueTask.FromResult((acquired, retryAfter));
    }
}

/// <summary>A user directory with one user, alice (password "correct horse"), that counts its verifications.</summary>
internal sealed class OneUserDirectory : IUserDirectory
{
    public const string Password = "correct horse";

    public int Verifications { get; private set; }

    public ValueTask<UserAccount?> VerifyAsync(string? username, string? password, CancellationToken cancellationToken = default)
    {
        Verifications++;
        return ValueTask.FromResult(username == "alice" && password == Password ? new UserAccount { Name = "alice", Groups = ["general", "ops"] } : null);
    }
}

/// <summary>A connection registry that records which users' connections it was told to close, and why.</summary>
internal sealed class ClosingRegistry : IUserConnectionRegistry
{
    public List<(string User, string Reason)> Closed { get; } = [];

    public ValueTask AddAsync(ISecureConnection connection, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask RemoveAsync(ISecureConnection connection, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask<int> CloseUserConnectionsAsync(string user, string reason, CancellationToken cancellationToken = default)
    {
        Closed.Add((user, reason));
        return ValueTask.FromResult(2);
    }

    public ValueTask<int> UpdateUserGroupsAsync(string user, IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(0);
}
