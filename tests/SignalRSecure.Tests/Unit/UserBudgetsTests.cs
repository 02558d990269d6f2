using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The per-user budgets on their own: the connection cap counted on this node and, with a shared store (several nodes),
/// on the store; the invocation budget from the node's bucket or from leases of the shared one.
/// </summary>
public sealed class UserBudgetsTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void TryAcquire_UpToMaxConnectionsPerUser_RefusesTheNextOne()
    {
        var budgets = Budgets(maxConnectionsPerUser: 3);

        var admitted = Enumerable.Range(0, 3).Select(_ => budgets.TryAcquire("alice")).ToList();
        var fourth = budgets.TryAcquire("alice");
        var otherUser = budgets.TryAcquire("bob");

        Assert.All(admitted, Assert.NotNull);
        Assert.Single(admitted.Distinct());
        Assert.Equal("alice", admitted[0]!.User);
        Assert.Null(fourth);
        Assert.NotNull(otherUser);
        Assert.Equal(2, budgets.Count);
    }

    [Fact]
    public void Release_NotTheLastConnection_KeepsTheUsersBudget()
    {
        var budgets = Budgets(maxConnectionsPerUser: 2);
        var first = budgets.TryAcquire("alice")!;
        budgets.TryAcquire("alice");

        budgets.Release(first);
        var again = budgets.TryAcquire("alice");
        var overTheCap = budgets.TryAcquire("alice");

        Assert.Same(first, again);
        Assert.False(first.Retired);
        Assert.Null(overTheCap);
        Assert.Equal(1, budgets.Count);
    }

    [Fact]
    public void Release_TheLastConnection_ForgetsTheUserAndTheNextConnectionGetsAFreshBudget()
    {
        var budgets = Budgets(maxConnectionsPerUser: 1, userInvocationBurst: 2);
        var first = budgets.TryAcquire("alice")!;
        Assert.True(budgets.TryTakeInvocation(first));
        Assert.True(budgets.TryTakeInvocation(first));
        Assert.False(budgets.TryTakeInvocation(first));

        budgets.Release(first);
        var fresh = budgets.TryAcquire("alice");

        Assert.True(first.Retired);
        Assert.NotNull(fresh);
        Assert.NotSame(first, fresh);
        Assert.True(budgets.TryTakeInvocation(fresh));
        Assert.Equal(1, budgets.Count);
        budgets.Release(fresh);
        Assert.Equal(0, budgets.Count);
    }

    [Fact]
    public void TryTakeInvocation_BurstThenRate_RefusesAtExactlyTheBudget()
    {
        var budgets = Budgets(userInvocationsPerSecond: 10, userInvocationBurst: 4);
        var budget = budgets.TryAcquire("alice")!;

        var burst = Enumerable.Range(0, 5).Count(_ => budgets.TryTakeInvocation(budget));
        _time.Advance(TimeSpan.FromMilliseconds(99));
        var justBeforeATenth = budgets.TryTakeInvocation(budget);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var atATenth = budgets.TryTakeInvocation(budget);
        var afterIt = budgets.TryTakeInvocation(budget);

        Assert.Equal(4, burst);
        Assert.False(justBeforeATenth);
        Assert.True(atATenth);
        Assert.False(afterIt);
    }

    [Fact]
    public async Task TryTakeInvocationAsync_NotShared_TakesFromTheNodesBucket()
    {
        var store = new FakeSharedLimits { Shared = false };
        var budgets = Budgets(userInvocationBurst: 3, shared: store);
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        var taken = 0;
        for (var i = 0; i < 5; i++)
        {
            taken += await budgets.TryTakeInvocationAsync(budget) ? 1 : 0;
        }

        Assert.False(budgets.IsShared);
        Assert.Equal(3, taken);
        Assert.Equal(0, store.Adds + store.Removes + store.Leases);
        await budgets.ReleaseAsync(budget);
        Assert.Equal(0, store.Removes);
        Assert.Equal(0, budgets.Count);
    }

    [Fact]
    public async Task TryAcquireAsync_Shared_CountsTheConnectionOnTheStoreWithTheCap()
    {
        var store = new FakeSharedLimits();
        var budgets = Budgets(maxConnectionsPerUser: 4, shared: store);

        var budget = await budgets.TryAcquireAsync("alice");

        Assert.True(budgets.IsShared);
        Assert.NotNull(budget);
        Assert.Equal([("alice", 4)], store.AddCalls);
        await budgets.ReleaseAsync(budget);
        Assert.Equal(["alice"], store.RemoveCalls);
        Assert.Equal(0, budgets.Count);
    }

    [Fact]
    public async Task TryAcquireAsync_SharedStoreRefuses_IsRefusedAndGivesTheNodesCountBack()
    {
        var store = new FakeSharedLimits { AddResult = false };
        var budgets = Budgets(maxConnectionsPerUser: 1, shared: store);

        var refused = await budgets.TryAcquireAsync("alice");

        Assert.Null(refused);
        Assert.Equal(0, budgets.Count);
        Assert.NotNull(budgets.TryAcquire("alice"));
    }

    [Fact]
    public async Task TryAcquireAsync_SharedStoreFails_ThrowsAndGivesTheNodesCountBack()
    {
        var store = new FakeSharedLimits { AddFailure = new InvalidOperationException("store down") };
        var budgets = Budgets(maxConnectionsPerUser: 1, shared: store);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await budgets.TryAcquireAsync("alice"));

        Assert.Equal(0, budgets.Count);
        Assert.NotNull(budgets.TryAcquire("alice"));
    }

    [Fact]
    public async Task TryAcquireAsync_RefusedOnThisNode_DoesNotAskTheSharedStore()
    {
        var store = new FakeSharedLimits();
        var budgets = Budgets(maxConnectionsPerUser: 1, shared: store);
        Assert.NotNull(await budgets.TryAcquireAsync("alice"));

        var refused = await budgets.TryAcquireAsync("alice");

        Assert.Null(refused);
        Assert.Equal(1, store.Adds);
    }

    [Fact]
    public async Task TryTakeInvocationAsync_Shared_SpendsEachLeaseBeforeAskingForTheNext()
    {
        var store = new FakeSharedLimits();
        store.LeaseResults.Enqueue(3);
        store.LeaseResults.Enqueue(2);
        var budgets = Budgets(userInvocationBurst: 1, shared: store);
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        var answers = new List<bool>();
        var leasesAsked = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add(await budgets.TryTakeInvocationAsync(budget));
            leasesAsked.Add(store.Leases);
        }

        // Five invocations from two leases (3 + 2): the node's own bucket (a burst of 1) is not what let them through.
        Assert.All(answers, Assert.True);
        Assert.Equal([1, 1, 1, 2, 2], leasesAsked);
        Assert.Equal("alice", store.LeaseUsers.Distinct().Single());
    }

    [Fact]
    public async Task TryTakeInvocationAsync_SharedBucketEmpty_IsRefusedThoughTheNodesBucketIsFull()
    {
        var store = new FakeSharedLimits();
        store.LeaseResults.Enqueue(0);
        store.LeaseResults.Enqueue(0);
        var budgets = Budgets(userInvocationBurst: 10, shared: store);
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        var first = await budgets.TryTakeInvocationAsync(budget);
        var second = await budgets.TryTakeInvocationAsync(budget);

        Assert.False(first);
        Assert.False(second);
        Assert.Equal(2, store.Leases);
    }

    [Fact]
    public async Task TryTakeInvocationAsync_SharedBucketUnreachable_FallsBackToTheNodesBucket()
    {
        var store = new FakeSharedLimits();
        for (var i = 0; i < 5; i++)
        {
            store.LeaseResults.Enqueue(null);
        }

        var budgets = Budgets(userInvocationBurst: 2, userInvocationsPerSecond: 1, shared: store);
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        var answers = await TakeInvocationsAsync(budgets, budget, 3);

        Assert.Equal([true, true, false], answers);
        Assert.Equal(3, store.Leases);
    }

    [Fact]
    public async Task TryTakeInvocationAsync_SharedBucketFailed_IsNotAskedAgainForASecond()
    {
        // Arrange: the store throws once; the node's bucket holds 3.
        var store = new FakeSharedLimits { LeaseFailure = new InvalidOperationException("store down") };
        var budgets = Budgets(userInvocationBurst: 3, userInvocationsPerSecond: 1, shared: store);
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        // Act
        var whileFailing = await budgets.TryTakeInvocationAsync(budget);
        store.LeaseFailure = null;
        store.LeaseResults.Enqueue(5);
        _time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
        var justBeforeTheRetry = await budgets.TryTakeInvocationAsync(budget);
        var leasesBeforeTheRetry = store.Leases;
        _time.Advance(TimeSpan.FromTicks(1));
        var atTheRetry = await budgets.TryTakeInvocationAsync(budget);

        // Assert: the node's bucket answered while the store was away, the store was asked again after exactly a second.
        Assert.True(whileFailing);
        Assert.True(justBeforeTheRetry);
        Assert.Equal(1, leasesBeforeTheRetry);
        Assert.True(atTheRetry);
        Assert.Equal(2, store.Leases);
    }

    [Fact]
    public async Task TryTakeInvocationAsync_SharedBucketFailedOnce_NodesBucketAloneDoesNotExceedItsBudget()
    {
        var store = new FakeSharedLimits { LeaseFailure = new InvalidOperationException("store down") };
        var budgets = Budgets(userInvocationBurst: 2, userInvocationsPerSecond: 1, shared: store);
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        var answers = await TakeInvocationsAsync(budgets, budget, 3);

        Assert.Equal([true, true, false], answers);
        Assert.Equal(1, store.Leases);
    }

    [Fact]
    public void UserBudget_Leased_GivesOutExactlyWhatWasAdded()
    {
        var budget = new UserBudget("alice", burst: 1, _time.GetTimestamp());

        var beforeAnyLease = budget.TryTakeLeased();
        budget.AddLeased(2);
        var taken = Enumerable.Range(0, 3).Select(_ => budget.TryTakeLeased()).ToList();

        Assert.False(beforeAnyLease);
        Assert.Equal([true, true, false], taken);
    }

    [Fact]
    public void UserBudget_TryTakeInvocation_TakesFromItsOwnBucket()
    {
        var budget = new UserBudget("alice", burst: 2, _time.GetTimestamp());

        var taken = Enumerable.Range(0, 3).Select(_ => budget.TryTakeInvocation(_time, perSecond: 1, burst: 2)).ToList();
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterASecond = budget.TryTakeInvocation(_time, perSecond: 1, burst: 2);

        Assert.Equal([true, true, false], taken);
        Assert.True(afterASecond);
    }

    [Fact]
    public async Task NodeUserLimits_SharesNothing()
    {
        var limits = new NodeUserLimits();

        Assert.False(limits.IsShared);
        Assert.True(await limits.TryAddConnectionAsync("alice", maximum: 0));
        Assert.Null(await limits.LeaseInvocationsAsync("alice"));
        await limits.RemoveConnectionAsync("alice");
        Assert.False(new UserBudgets(Options.Create(new ProtectionOptions()), Options.Create(new SecureHubOptions()), _time).IsShared);
    }

    [Fact]
    public async Task TryTakeInvocationAsync_SharedBucketFails_LogsTheFailure()
    {
        var logs = new CapturedLogs();
        using var loggers = new LoggerFactory([logs]);
        var store = new FakeSharedLimits { LeaseFailure = new InvalidOperationException("store down") };
        var budgets = new UserBudgets(
            Options.Create(new ProtectionOptions()), Options.Create(new SecureHubOptions()), _time, store, loggers.CreateLogger<UserBudgets>());
        var budget = (await budgets.TryAcquireAsync("alice"))!;

        Assert.True(await budgets.TryTakeInvocationAsync(budget));

        var logged = Assert.Single(logs.WithEvent("SharedUserBudgetFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal("store down", logged.Exception?.Message);
    }

    [Fact]
    public async Task TryAcquire_EntryGivenBackWhileItWaitsForTheLock_TakesAFreshOneAndKeepsTheCap()
    {
        // Arrange: one connection a user; alice's only connection holds her entry.
        var budgets = Budgets(maxConnectionsPerUser: 1);
        var first = budgets.TryAcquire("alice")!;

        // Act: a new connection has found the entry and waits for its lock while the first one closes, retiring it.
        Task<UserBudget?> second;
        lock (first.SyncRoot)
        {
            second = LockRace.RunUntilBlocked(() => budgets.TryAcquire("alice"));
            budgets.Release(first);
        }

        var admitted = await second.WaitAsync(TimeSpan.FromSeconds(10));
        var third = budgets.TryAcquire("alice");

        // Assert: the second counts on the entry in the table, so a third is over the cap.
        Assert.NotNull(admitted);
        Assert.NotSame(first, admitted);
        Assert.Null(third);
        Assert.Equal(1, budgets.Count);
    }

    /// <summary>The answers to <paramref name="count"/> invocations in a row, in order.</summary>
    private static async Task<List<bool>> TakeInvocationsAsync(UserBudgets budgets, UserBudget budget, int count)
    {
        var answers = new List<bool>();
        for (var i = 0; i < count; i++)
        {
            answers.Add(await budgets.TryTakeInvocationAsync(budget));
        }

        return answers;
    }

    private UserBudgets Budgets(
        int maxConnectionsPerUser = 5, int userInvocationsPerSecond = 10, int userInvocationBurst = 20, ISharedUserLimits? shared = null) =>
        new(
            Options.Create(new ProtectionOptions { MaxConnectionsPerUser = maxConnectionsPerUser }),
            Options.Create(new SecureHubOptions { UserInvocationsPerSecond = userInvocationsPerSecond, UserInvocationBurst = userInvocationBurst }),
            _time,
            shared);

    /// <summary>A shared store that answers what the test queues and records what it was asked.</summary>
    private sealed class FakeSharedLimits : ISharedUserLimits
    {
        public bool Shared { get; init; } = true;

        public bool AddResult { get; init; } = true;

        public Exception? AddFailure { get; init; }

        public Exception? LeaseFailure { get; set; }

        public Queue<int?> LeaseResults { get; } = new();

        public List<(string User, int Maximum)> AddCalls { get; } = [];

        public List<string> RemoveCalls { get; } = [];

        public List<string> LeaseUsers { get; } = [];

        public int Adds => AddCalls.Count;

        public int Removes => RemoveCalls.Count;

        public int Leases => LeaseUsers.Count;

        public bool IsShared => Shared;

        public ValueTask<bool> TryAddConnectionAsync(string user, int maximum, CancellationToken cancellationToken = default)
        {
            AddCalls.Add((user, maximum));
            return AddFailure is { } failure ? ValueTask.FromException<bool>(failure) : ValueTask.FromResult(AddResult);
        }

        public ValueTask RemoveConnectionAsync(string user, CancellationToken cancellationToken = default)
        {
            RemoveCalls.Add(user);
            return ValueTask.CompletedTask;
        }

        public ValueTask<int?> LeaseInvocationsAsync(string user, CancellationToken cancellationToken = default)
        {
            LeaseUsers.Add(user);
            if (LeaseFailure is { } failure)
            {
                return ValueTask.FromException<int?>(failure);
            }

            return ValueTask.FromResult(LeaseResults.TryDequeue(out var result) ? result : 0);
        }
    }
}
