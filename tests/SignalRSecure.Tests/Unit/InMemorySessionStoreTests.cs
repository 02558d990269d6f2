using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The in-memory session store: a session is found until the instant it expires and never from then on (the same
/// instant at which the sweep drops it and the browser drops the cookie), logout ends one session, and revoking a user
/// ends that user's sessions and no one else's.
/// </summary>
public sealed class InMemorySessionStoreTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // Sweeps every 10 minutes: at 10, 20 and 30 minutes after the store starts.
    private static readonly LoginOptions Login = new() { SessionLifetime = TimeSpan.FromMinutes(30) };

    private readonly ManualTimeProvider _time = new();
    private readonly InMemorySessionStore _store;

    public InMemorySessionStoreTests() =>
        _store = new InMemorySessionStore(_time, Options.Create(Login));

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task GetAsync_BeforeExpiry_FindsTheSession()
    {
        var session = Session("key", "alice", expiresIn: TimeSpan.FromMinutes(25));
        await AddAsync(session);

        _time.Advance(TimeSpan.FromMinutes(25) - TimeSpan.FromTicks(1));

        Assert.Same(session, await GetAsync("key"));
    }

    [Theory]
    // At the expiry instant: ExpiresAt is when the session ends, as for tickets and the cookie's Expires.
    [InlineData(25)]
    // Expired, not yet swept.
    [InlineData(29)]
    public async Task GetAsync_AtOrAfterExpiryBeforeTheSweep_FindsNothing(int minutes)
    {
        // Arrange: the session ends at 25 minutes, between two sweeps, so only the lookup itself can refuse it.
        await AddAsync(Session("key", "alice", expiresIn: TimeSpan.FromMinutes(25)));

        // Act
        _time.Advance(TimeSpan.FromMinutes(minutes));

        // Assert
        Assert.Null(await GetAsync("key"));
        Assert.Equal(1, _store.Count);
    }

    [Fact]
    public async Task GetAsync_UnknownKey_FindsNothing()
    {
        await AddAsync(Session("key", "alice", expiresIn: TimeSpan.FromMinutes(25)));

        Assert.Null(await GetAsync("other"));
    }

    [Fact]
    public async Task RemoveAsync_OneSession_EndsThatSessionOnly()
    {
        var kept = Session("kept", "alice", expiresIn: TimeSpan.FromMinutes(25));
        await AddAsync(Session("gone", "alice", expiresIn: TimeSpan.FromMinutes(25)));
        await AddAsync(kept);

        await _store.RemoveAsync("gone").AsTask().WaitAsync(Timeout);

        Assert.Null(await GetAsync("gone"));
        Assert.Same(kept, await GetAsync("kept"));
        Assert.Equal(1, _store.Count);
    }

    [Fact]
    public async Task RemoveUserAsync_User_EndsEveryOneOfTheUsersSessionsAndNoOneElses()
    {
        // Arrange: two sessions of alice, one of bob, and one of "Alice", another user (names are compared ordinally).
        var bob = Session("bob-1", "bob", expiresIn: TimeSpan.FromMinutes(25));
        var otherCase = Session("Alice-1", "Alice", expiresIn: TimeSpan.FromMinutes(25));
        await AddAsync(Session("alice-1", "alice", expiresIn: TimeSpan.FromMinutes(25)));
        await AddAsync(Session("alice-2", "alice", expiresIn: TimeSpan.FromMinutes(5)));
        await AddAsync(bob);
        await AddAsync(otherCase);

        // Act
        await _store.RemoveUserAsync("alice").AsTask().WaitAsync(Timeout);

        // Assert
        Assert.Null(await GetAsync("alice-1"));
        Assert.Null(await GetAsync("alice-2"));
        Assert.Same(bob, await GetAsync("bob-1"));
        Assert.Same(otherCase, await GetAsync("Alice-1"));
        Assert.Equal(2, _store.Count);
    }

    [Fact]
    public async Task Sweep_AtTheExpiryInstant_DropsTheSessionAndKeepsTheOneStillLive()
    {
        // Arrange: one session ends exactly at the third sweep (30 minutes), the other one tick later.
        var live = Session("live", "bob", expiresIn: TimeSpan.FromMinutes(30) + TimeSpan.FromTicks(1));
        await AddAsync(Session("ending", "alice", expiresIn: TimeSpan.FromMinutes(30)));
        await AddAsync(live);

        // Act
        _time.Advance(TimeSpan.FromMinutes(30));

        // Assert: the ending one is gone from memory, not only refused.
        Assert.Equal(1, _store.Count);
        Assert.Same(live, await GetAsync("live"));
    }

    private LoginSession Session(string key, string user, TimeSpan expiresIn) =>
        new(key, user, ["general"], _time.GetUtcNow() + expiresIn);

    private Task AddAsync(LoginSession session) => _store.AddAsync(session).AsTask().WaitAsync(Timeout);

    private Task<LoginSession?> GetAsync(string key) => _store.GetAsync(key).AsTask().WaitAsync(Timeout);
}
