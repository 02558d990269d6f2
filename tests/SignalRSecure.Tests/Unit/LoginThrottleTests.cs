using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;

namespace SignalRSecure.Tests.Unit;

/// <summary>Login attempts limited per IP and per user name (whatever its case or length), with how long to wait.</summary>
public sealed class LoginThrottleTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    [Fact]
    public void TryAcquire_ExactlyThePerUserLimit_IsAllowed_OneMore_IsRefusedWithTheWindow()
    {
        using var throttle = Throttle(perIp: 100, perUser: 3);

        var allowed = Enumerable.Range(0, 3).Select(i => throttle.TryAcquire(IPAddress.Parse($"10.0.0.{i + 1}"), "alice", out _)).ToList();
        var refused = throttle.TryAcquire(IPAddress.Parse("10.0.0.9"), "ALICE", out var retryAfter);
        var otherUser = throttle.TryAcquire(IPAddress.Parse("10.0.0.9"), "bob", out _);

        Assert.All(allowed, Assert.True);
        Assert.False(refused);
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        Assert.True(otherUser);
    }

    [Fact]
    public void TryAcquire_ExactlyThePerIpLimit_IsAllowed_OneMore_IsRefusedWhateverTheUser()
    {
        using var throttle = Throttle(perIp: 2, perUser: 100);

        var first = throttle.TryAcquire(Client, "alice", out _);
        var second = throttle.TryAcquire(Client, "bob", out _);
        var third = throttle.TryAcquire(Client, "carol", out var retryAfter);
        var otherIp = throttle.TryAcquire(IPAddress.Parse("203.0.113.8"), "carol", out _);

        Assert.True(first);
        Assert.True(second);
        Assert.False(third);
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.True(otherIp);
    }

    [Fact]
    public async Task TryAcquireAsync_ThroughTheInterface_CountsTheSameAttempts()
    {
        using var throttle = Throttle(perIp: 100, perUser: 1);
        ILoginThrottle asInterface = throttle;

        var first = await asInterface.TryAcquireAsync(Client, "alice").AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var second = await asInterface.TryAcquireAsync(Client, "alice").AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(first.Acquired);
        Assert.False(second.Acquired);
        Assert.True(second.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public void TryAcquire_NullAddressAndUser_CountUnderOneKeyEach()
    {
        using var throttle = Throttle(perIp: 100, perUser: 1);

        Assert.True(throttle.TryAcquire(null, null, out _));
        Assert.False(throttle.TryAcquire(null, string.Empty, out _));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("Alice", "alice")]
    [InlineData("ALICE.Smith", "alice.smith")]
    public void UserKey_ShortName_IsTheLowerCaseName(string? username, string expected)
    {
        Assert.Equal(expected, LoginThrottle.UserKey(username));
    }

    [Fact]
    public void UserKey_LongName_IsCutTo64Characters()
    {
        var exactly = new string('a', 64);
        var longer = new string('B', 65) + "xyz";

        Assert.Equal(exactly, LoginThrottle.UserKey(exactly));
        Assert.Equal(new string('b', 64), LoginThrottle.UserKey(longer));
    }

    private static LoginThrottle Throttle(int perIp, int perUser) =>
        new(Options.Create(new LoginOptions { AttemptsPerIp = perIp, AttemptsPerUser = perUser, AttemptWindow = TimeSpan.FromMinutes(5) }));
}
