using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.StackExchangeRedis.Accounts;
using SignalRSecure.StackExchangeRedis.Groups;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.StackExchangeRedis.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Redis;

/// <summary>
/// The Lua counters and the roster of the Redis scale-out against a real redis-server, two instances with their own
/// connection standing for two nodes, on one manual clock: the semantics of the in-memory limits, for all nodes together.
/// </summary>
public sealed class RedisCountersTests(RedisFixture redis) : TwoRedisNodesTest(redis)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.9");

    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task Lockout_TenFailuresSplitOverTwoNodes_LocksTheAddressOutOnBothUntilTheLockoutEnds()
    {
        // Arrange
        var onA = Limiter(NodeA);
        var onB = Limiter(NodeB);

        // Act: five failures on each node, each an attempt that ends failed.
        var lockedBy = new List<bool>();
        for (var i = 0; i < 10; i++)
        {
            var limiter = i % 2 == 0 ? onA : onB;
            var attempt = await limiter.TryBeginAttemptAsync(Attacker).AsTask().WaitAsync(Timeout);
            Assert.NotNull(attempt);
            lockedBy.Add(await limiter.EndAttemptAsync(attempt, failed: true));
        }

        // Assert: the tenth locks out, both nodes see it for five minutes, a bystander is untouched.
        Assert.Equal([.. Enumerable.Repeat(false, 9), true], lockedBy);
        Assert.Equal(TimeSpan.FromMinutes(5), await onA.GetLockoutAsync(Attacker));
        Assert.Equal(TimeSpan.FromMinutes(5), await onB.GetLockoutAsync(Attacker));
        Assert.Null(await onB.TryBeginAttemptAsync(Attacker).AsTask().WaitAsync(Timeout));
        Assert.Equal(TimeSpan.Zero, await onA.GetLockoutAsync(IPAddress.Parse("203.0.113.10")));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.Zero, await onA.GetLockoutAsync(Attacker));
        Assert.NotNull(await onA.TryBeginAttemptAsync(Attacker).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Lockout_FailuresSpreadOverWindows_NeverLockOut()
    {
        var onA = Limiter(NodeA);
        var onB = Limiter(NodeB);

        for (var i = 0; i < 27; i++)
        {
            Assert.False(await (i % 2 == 0 ? onA : onB).RecordFailureAsync(Attacker));
            if (i % 9 == 8)
            {
                _time.Advance(TimeSpan.FromMinutes(1));
            }
        }

        Assert.Equal(TimeSpan.Zero, await onB.GetLockoutAsync(Attacker));
    }

    [Fact]
    public async Task Lockout_AttemptsInFlightOnTwoNodes_HoldTheNextOneBackUntilTheyFailAndThenRefuseIt()
    {
        // Arrange: a threshold of 2, one attempt in flight on each node.
        var onA = Limiter(NodeA, failures: 2);
        var onB = Limiter(NodeB, failures: 2);
        var first = await onA.TryBeginAttemptAsync(Attacker).AsTask().WaitAsync(Timeout);
        var second = await onB.TryBeginAttemptAsync(Attacker).AsTask().WaitAsync(Timeout);

        // Act: a third waits; both in flight fail.
        var third = onA.TryBeginAttemptAsync(Attacker).AsTask();
        await AdvanceWhileAsync(third, times: 3);
        var waitedWhileInFlight = !third.IsCompleted;
        await onA.EndAttemptAsync(first!, failed: true);
        await AdvanceWhileAsync(third, times: 3);
        var waitedAfterOneFailure = !third.IsCompleted;
        Assert.True(await onB.EndAttemptAsync(second!, failed: true));
        await AdvanceWhileAsync(third, times: 500);

        // Assert: it waited for both, then was refused unread.
        Assert.True(waitedWhileInFlight);
        Assert.True(waitedAfterOneFailure);
        Assert.Null(await third.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Lockout_AttemptOfANodeThatDied_LapsesAfterTheAuthenticationTimeout()
    {
        var onA = Limiter(NodeA, failures: 1);
        var onB = Limiter(NodeB, failures: 1);
        Assert.NotNull(await onA.TryBeginAttemptAsync(Attacker).AsTask().WaitAsync(Timeout));

        // Node A never ends its attempt; B's waits until the attempt's deadline has passed.
        var waiting = onB.TryBeginAttemptAsync(Attacker).AsTask();
        await AdvanceWhileAsync(waiting, times: 3);
        Assert.False(waiting.IsCompleted);
        _time.Advance(new SecureHubOptions().AuthenticationTimeout);
        await AdvanceWhileAsync(waiting, times: 500);

        Assert.NotNull(await waiting.WaitAsync(Timeout));
    }

    [Fact]
    public async Task LoginThrottle_PerUserSplitOverTwoNodes_RefusesTheSixthUntilTheWindowEnds()
    {
        // Arrange
        var onA = Throttle(NodeA);
        var onB = Throttle(NodeB);

        // Act: five attempts for alice from five addresses, alternating nodes, then a sixth.
        var results = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            results.Add((await (i % 2 == 0 ? onA : onB).TryAcquireAsync(IPAddress.Parse($"198.51.100.{i + 1}"), "Alice")).Acquired);
        }

        _time.Advance(TimeSpan.FromSeconds(20));
        var (sixth, retryAfter) = await onB.TryAcquireAsync(IPAddress.Parse("198.51.100.9"), "alice");
        var otherUser = (await onB.TryAcquireAsync(IPAddress.Parse("198.51.100.9"), "bob")).Acquired;
        _time.Advance(TimeSpan.FromSeconds(40));
        var afterWindow = (await onA.TryAcquireAsync(IPAddress.Parse("198.51.100.9"), "alice")).Acquired;

        // Assert
        Assert.All(results, Assert.True);
        Assert.False(sixth);
        Assert.Equal(TimeSpan.FromSeconds(40), retryAfter);
        Assert.True(otherUser);
        Assert.True(afterWindow);
    }

    [Fact]
    public async Task LoginThrottle_PerIpSplitOverTwoNodes_RefusesTheTwentyFirst()
    {
        var onA = Throttle(NodeA);
        var onB = Throttle(NodeB);

        var results = new List<bool>();
        for (var i = 0; i < 21; i++)
        {
            results.Add((await (i % 2 == 0 ? onA : onB).TryAcquireAsync(Attacker, $"user-{i}")).Acquired);
        }

        Assert.Equal(20, results.Count(acquired => acquired));
        Assert.False(results[^1]);
    }

    [Fact]
    public async Task UserConnections_CapSplitOverTwoNodes_RefusesTheThirdUntilOneIsRemoved()
    {
        var nodeA = new RedisNode();
        var nodeB = new RedisNode();
        var onA = UserLimits(NodeA, nodeA);
        var onB = UserLimits(NodeB, nodeB);
        await ListAsync(nodeA, nodeB);

        Assert.True(await onA.TryAddConnectionAsync("alice", maximum: 2));
        Assert.True(await onB.TryAddConnectionAsync("alice", maximum: 2));
        var third = await onA.TryAddConnectionAsync("alice", maximum: 2);
        var bob = await onA.TryAddConnectionAsync("bob", maximum: 2);
        await onB.RemoveConnectionAsync("alice");
        var afterRemoval = await onA.TryAddConnectionAsync("alice", maximum: 2);

        Assert.False(third);
        Assert.True(bob);
        Assert.True(afterRemoval);
    }

    [Fact]
    public async Task UserInvocations_LeasesFromTwoNodes_ShareOneBucketRefilledAtTheRate()
    {
        // Arrange: 10 a second, a burst of 20, leases of 10.
        var hub = new SecureHubOptions { UserInvocationsPerSecond = 10, UserInvocationBurst = 20 };
        var onA = UserLimits(NodeA, new RedisNode(), hub, lease: 10);
        var onB = UserLimits(NodeB, new RedisNode(), hub, lease: 10);
        await onA.TryAddConnectionAsync("alice", 20);

        // Act
        int?[] leases = [await onA.LeaseInvocationsAsync("alice"), await onB.LeaseInvocationsAsync("alice"), await onA.LeaseInvocationsAsync("alice")];
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var afterHalfASecond = await onB.LeaseInvocationsAsync("alice");

        // Assert: the burst in two leases, then nothing, then what half a second refilled.
        Assert.Equal([10, 10, 0], leases);
        Assert.Equal(5, afterHalfASecond);
    }

    [Fact]
    public async Task Roster_MembershipWrittenByOneNode_IsReadTheSameOnTheOther()
    {
        // Arrange
        var nodeA = new RedisNode();
        var onA = Roster(NodeA, nodeA);
        var onB = Roster(NodeB, new RedisNode());

        // Act
        var joined = await onA.TryJoinAsync("c1", "alice", "general", maximumGroups: 2);
        var again = await onB.TryJoinAsync("c1", "alice", "general", maximumGroups: 2);
        await onA.TryJoinAsync("c1", "alice", "ops", maximumGroups: 2);
        var overCap = await onB.TryJoinAsync("c1", "alice", "third", maximumGroups: 2);
        await onB.TryJoinAsync("c2", "bob", "general", maximumGroups: 2);
        await onB.TryJoinAsync("c3", "bob", "general", maximumGroups: 2);

        // Assert
        Assert.Equal(IGroupRoster.JoinResult.Joined, joined);
        Assert.Equal(IGroupRoster.JoinResult.AlreadyMember, again);
        Assert.Equal(IGroupRoster.JoinResult.TooManyGroups, overCap);
        Assert.Equal(["alice", "bob"], await onA.MembersAsync("general"));
        Assert.True(await onB.IsMemberAsync("c1", "ops"));
        Assert.Equal(["general", "ops"], (await onB.GroupsOfAsync("c1")).Order());
        Assert.True(await onB.LeaveAsync("c2", "general"));
        Assert.False(await onB.LeaveAsync("c2", "general"));
        Assert.Equal(["alice", "bob"], await onA.MembersAsync("general"));
        Assert.Equal(["general"], await onB.RemoveConnectionAsync("c3"));
        Assert.Equal(["alice"], await onA.MembersAsync("general"));
        Assert.Equal(["c1"], await onB.NodeConnectionsAsync(nodeA.Id));
        var (user, groupsLeft) = await onB.RemoveNodeConnectionAsync(nodeA.Id, "c1");
        Assert.Equal("alice", user);
        Assert.Equal(["general", "ops"], groupsLeft.Order());
        Assert.Empty(await onA.MembersAsync("general"));
        Assert.Empty(await onA.NodeConnectionsAsync(nodeA.Id));
    }

    [Fact]
    public async Task Roster_ConnectionThatNeverJoined_ClosesWithoutARoundTrip()
    {
        var node = new RedisNode();
        var roster = Roster(NodeA, node);
        await roster.TryJoinAsync("joined", "alice", "general", maximumGroups: 2);
        var before = await Server.ScriptCallsAsync();

        var leftByIdle = await roster.RemoveConnectionAsync("never-joined");
        var afterIdle = await Server.ScriptCallsAsync();
        var leftByJoined = await roster.RemoveConnectionAsync("joined");
        var afterJoined = await Server.ScriptCallsAsync();

        Assert.Empty(leftByIdle);
        Assert.Equal(before, afterIdle);
        Assert.Equal(["general"], leftByJoined);
        Assert.Equal(1, afterJoined - afterIdle);
    }

    /// <summary>Lists nodes as live, as their heartbeats do.</summary>
    private async Task ListAsync(params RedisNode[] nodes)
    {
        var database = await NodeA.GetDatabaseAsync();
        await database.SetAddAsync(Keys.Nodes, [.. nodes.Select(node => (StackExchange.Redis.RedisValue)node.Id)]);
    }

    private RedisAuthenticationFailureLimiter Limiter(RedisConnection connection, int failures = 10) =>
        new(connection, Keys, Options.Create(new ProtectionOptions { AuthenticationFailuresPerIp = failures }), Options.Create(new SecureHubOptions()), _time);

    private RedisLoginThrottle Throttle(RedisConnection connection) => new(connection, Keys, Options.Create(new LoginOptions()), _time);

    private RedisUserLimits UserLimits(RedisConnection connection, RedisNode node, SecureHubOptions? hub = null, int lease = 10) =>
        new(connection, Keys, node, Options.Create(new RedisOptions { UserInvocationLease = lease }), Options.Create(hub ?? new SecureHubOptions()), _time);

    private RedisGroupRoster Roster(RedisConnection connection, RedisNode node) => new(connection, Keys, node);

    /// <summary>
    /// Moves the clock one poll interval at a time while <paramref name="attempt"/> waits, at most
    /// <paramref name="times"/> times. Before each move the attempt's poll must have made its round trip to Redis and
    /// be waiting on the clock again: its next delay's timer is the signal, not a pause.
    /// </summary>
    private async Task AdvanceWhileAsync(Task attempt, int times)
    {
        for (var i = 0; i < times && !attempt.IsCompleted; i++)
        {
            await Task.WhenAny(_time.WhenTimerPendingAsync(), attempt).WaitAsync(Timeout);
            if (attempt.IsCompleted)
            {
                return;
            }

            _time.Advance(RedisAuthenticationFailureLimiter.WaitInterval);
        }
    }
}
