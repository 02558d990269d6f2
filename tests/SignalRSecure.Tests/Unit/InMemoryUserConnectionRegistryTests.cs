using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The in-process registry that logout, revocation and Reauthenticate reach a user's connections through: it must keep
/// every connection of the user, reach none of another user's, and forget a connection once it closed.
/// </summary>
public sealed class InMemoryUserConnectionRegistryTests
{
    private static readonly DateTimeOffset IssuedAt = new(2031, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private readonly InMemoryUserConnectionRegistry _registry = new();

    [Fact]
    public async Task CloseUserConnectionsAsync_UserWithTwoConnections_ClosesBothAndNoOtherUsers()
    {
        // Arrange
        var aliceOne = await AddAsync("c1", "alice");
        var aliceTwo = await AddAsync("c2", "alice");
        var bob = await AddAsync("c3", "bob");
        var upperAlice = await AddAsync("c4", "ALICE");

        // Act
        var closed = await _registry.CloseUserConnectionsAsync("alice", "logged out");

        // Assert: user names are compared exactly, as everywhere in the gate.
        Assert.Equal(2, closed);
        Assert.Equal(["logged out"], aliceOne.Closes);
        Assert.Equal(["logged out"], aliceTwo.Closes);
        Assert.Empty(bob.Closes);
        Assert.Empty(upperAlice.Closes);
    }

    [Fact]
    public async Task CloseUserConnectionsAsync_UnknownUser_ClosesNothing()
    {
        var alice = await AddAsync("c1", "alice");

        var closed = await _registry.CloseUserConnectionsAsync("mallory", "logged out");

        Assert.Equal(0, closed);
        Assert.Empty(alice.Closes);
    }

    [Fact]
    public async Task RemoveAsync_ClosedConnection_IsReachedNoMore()
    {
        // Arrange
        var gone = await AddAsync("c1", "alice");
        var staying = await AddAsync("c2", "alice");

        // Act
        await _registry.RemoveAsync(gone);
        var closed = await _registry.CloseUserConnectionsAsync("alice", "revoked");
        var updated = await _registry.UpdateUserGroupsAsync("alice", ["general"], IssuedAt);

        // Assert
        Assert.Equal(1, closed);
        Assert.Equal(1, updated);
        Assert.Empty(gone.Closes);
        Assert.Empty(gone.Updates);
        Assert.Equal(["revoked"], staying.Closes);
    }

    [Fact]
    public async Task RemoveAsync_AnotherConnectionUnderTheSameId_LeavesTheRegisteredOne()
    {
        // Arrange: a connection id taken over by a newer entry; the older one's removal must not drop the newer.
        var older = new FakeConnection("c1", "alice");
        await _registry.AddAsync(older);
        var newer = await AddAsync("c1", "alice");

        // Act
        await _registry.RemoveAsync(older);
        var closed = await _registry.CloseUserConnectionsAsync("alice", "revoked");

        // Assert
        Assert.Equal(1, closed);
        Assert.Equal(["revoked"], newer.Closes);
        Assert.Empty(older.Closes);
    }

    [Fact]
    public async Task UpdateUserGroupsAsync_UserWithTwoConnections_UpdatesBothAndNoOtherUsers()
    {
        // Arrange
        var aliceOne = await AddAsync("c1", "alice");
        var aliceTwo = await AddAsync("c2", "alice");
        var bob = await AddAsync("c3", "bob");

        // Act
        var reached = await _registry.UpdateUserGroupsAsync("alice", ["general"], IssuedAt);

        // Assert
        Assert.Equal(2, reached);
        var (groups, issuedAt) = Assert.Single(aliceOne.Updates);
        Assert.Equal(["general"], groups);
        Assert.Equal(IssuedAt, issuedAt);
        Assert.Single(aliceTwo.Updates);
        Assert.Empty(bob.Updates);
    }

    private async Task<FakeConnection> AddAsync(string id, string user)
    {
        var connection = new FakeConnection(id, user);
        await _registry.AddAsync(connection).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return connection;
    }

    private sealed class FakeConnection(string id, string user) : ISecureConnection
    {
        public string ConnectionId => id;

        public string User => user;

        public IReadOnlyList<string> Groups { get; private set; } = [];

        public List<string> Closes { get; } = [];

        public List<(IReadOnlyList<string> Groups, DateTimeOffset IssuedAt)> Updates { get; } = [];

        public void Close(string reason) => Closes.Add(reason);

        public ValueTask UpdateGroupsAsync(IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default)
        {
            Groups = groups;
            Updates.Add((groups, issuedAt));
            return ValueTask.CompletedTask;
        }
    }
}
