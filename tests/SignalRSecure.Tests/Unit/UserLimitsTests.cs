using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;

namespace SignalRSecure.Tests.Unit;

/// <summary>Limits per user across the user's connections: how many connections, and one shared invocation budget.</summary>
public sealed class UserLimitsTests : IDisposable
{
    private readonly GateTestbed _testbed = new(
        new SecureHubOptions { InvocationsPerSecond = 5, InvocationBurst = 5, UserInvocationsPerSecond = 6, UserInvocationBurst = 8, RateLimitStrikesBeforeClose = 100 },
        new ProtectionOptions { MaxConnectionsPerUser = 2 });

    private readonly SecureHubFilter _filter = new(NullLogger<SecureHubFilter>.Instance);

    [Fact]
    public async Task Authenticate_OverMaxConnectionsPerUser_FailsWithTooManyConnectionsAndCloses()
    {
        await AuthenticatedAsync("alice");
        await AuthenticatedAsync("alice");
        var third = _testbed.Open();
        var ticket = await _testbed.IssueAsync("alice");
        Assert.True(third.Gate.TryBeginAuthentication());

        var error = await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(third.Gate, ticket));

        Assert.Equal(HubErrors.TooManyConnections, error.Message);
        Assert.Equal(CloseReasons.TooManyConnections, third.Gate.CloseReason);
        Assert.False(third.Gate.IsAuthenticated);
        Assert.True(CloseReasons.IsTerminal(third.Gate.CloseReason));
        Assert.False(_testbed.Failures.IsLockedOut(System.Net.IPAddress.Loopback, out _));
    }

    [Fact]
    public async Task Authenticate_AnotherUserAtTheCap_IsUnaffected()
    {
        await AuthenticatedAsync("alice");
        await AuthenticatedAsync("alice");

        var bob = await AuthenticatedAsync("bob");
        var bobAgain = await AuthenticatedAsync("bob");

        Assert.True(bob.Gate.IsAuthenticated && bobAgain.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Authenticate_AfterOneOfTheUsersConnectionsClosed_SucceedsAgain()
    {
        var first = await AuthenticatedAsync("alice");
        await AuthenticatedAsync("alice");

        await GateTestbed.DisconnectAsync(first);
        var replacement = await AuthenticatedAsync("alice");

        Assert.True(replacement.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Disconnect_LastConnectionOfEachUser_ForgetsTheUsers()
    {
        var connections = new[] { await AuthenticatedAsync("alice"), await AuthenticatedAsync("alice"), await AuthenticatedAsync("bob") };
        var refused = _testbed.Open();
        Assert.True(refused.Gate.TryBeginAuthentication());
        await Assert.ThrowsAsync<HubException>(async () => await _testbed.Keeper.AuthenticateAsync(refused.Gate, await _testbed.IssueAsync("alice")));
        Assert.Equal(2, _testbed.Budgets.Count);

        await GateTestbed.DisconnectAsync(refused);
        foreach (var connection in connections)
        {
            await GateTestbed.DisconnectAsync(connection);
        }

        Assert.Equal(0, _testbed.Budgets.Count);
    }

    [Fact]
    public async Task Invoke_TheUsersConnectionsTogether_GetNoMoreThanTheUserBudget()
    {
        var alice = new[] { await AuthenticatedAsync("alice"), await AuthenticatedAsync("alice") };
        var bob = await AuthenticatedAsync("bob");

        // Each connection alone may make 5; together alice's two get the user's burst of 8, then 6 a second.
        var accepted = 0;
        var limited = 0;
        foreach (var connection in alice)
        {
            for (var i = 0; i < 5; i++)
            {
                if (await TryInvokeAsync(connection))
                {
                    accepted++;
                }
                else
                {
                    limited++;
                }
            }
        }

        var bobAccepted = 0;
        for (var i = 0; i < 5; i++)
        {
            bobAccepted += await TryInvokeAsync(bob) ? 1 : 0;
        }

        _testbed.Time.Advance(TimeSpan.FromSeconds(1));
        var acceptedAfterASecond = 0;
        foreach (var connection in alice)
        {
            for (var i = 0; i < 5; i++)
            {
                acceptedAfterASecond += await TryInvokeAsync(connection) ? 1 : 0;
            }
        }

        Assert.Equal(8, accepted);
        Assert.Equal(2, limited);
        Assert.Equal(5, bobAccepted);
        Assert.Equal(6, acceptedAfterASecond);
        Assert.All(alice, c => Assert.True(c.Gate.IsAuthenticated));
    }

    [Fact]
    public async Task Invoke_RepeatedlyOverTheUserBudget_ClosesWithRateLimited()
    {
        using var testbed = new GateTestbed(
            new SecureHubOptions { InvocationsPerSecond = 5, InvocationBurst = 5, UserInvocationsPerSecond = 5, UserInvocationBurst = 5, RateLimitStrikesBeforeClose = 2 });
        var first = testbed.Open();
        var second = testbed.Open();
        await testbed.AuthenticateAsync(first);
        await testbed.AuthenticateAsync(second);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(await TryInvokeAsync(first));
        }

        var outcomes = new List<bool>();
        for (var i = 0; i < 3; i++)
        {
            outcomes.Add(await TryInvokeAsync(second));
        }

        Assert.All(outcomes, Assert.False);
        Assert.Equal(CloseReasons.RateLimited, second.Gate.CloseReason);
    }

    public void Dispose() => _testbed.Dispose();

    private async Task<TestConnection> AuthenticatedAsync(string user)
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection, user, ["general"]);
        return connection;
    }

    private async Task<bool> TryInvokeAsync(TestConnection connection)
    {
        var context = HubInvocations.For<ChatHub>(new FakeCallerContext(connection.Gate, connection.Context.ConnectionId), new NullHub(), nameof(IChatHub.Echo), "x");
        try
        {
            await _filter.InvokeMethodAsync(context, _ => ValueTask.FromResult<object?>(null));
            return true;
        }
        catch (HubException ex) when (ex.Message == HubErrors.RateLimited)
        {
            return false;
        }
    }

    private sealed class NullHub : Hub;
}
