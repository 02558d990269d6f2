using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The classes built on chained partitioned limiters leave nothing running once disposed: each partitioned limiter
/// runs a timer until it is disposed, and a chain's Dispose does not dispose the limiters it joins. Counts the
/// process's active timers, so it runs alone, after the parallel tests.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class LimiterDisposalTests
{
    private const int Instances = 200;

    // One timer left behind per instance would add 200 or more; the margin leaves room for timers that other code in
    // the process starts or stops meanwhile.
    private const int Margin = 50;

    [Fact]
    public void ConnectionAdmission_Dispose_StopsTheTimersOfEveryLimiterItCreated()
    {
        var before = Timer.ActiveCount;

        for (var i = 0; i < Instances; i++)
        {
            using var admission = new ConnectionAdmission(Options.Create(new ProtectionOptions()));
            Assert.NotNull(admission.TryAdmit(IPAddress.Loopback));
        }

        Assert.InRange(Timer.ActiveCount - before, -Margin, Margin);
    }

    [Fact]
    public void LoginThrottle_Dispose_StopsTheTimersOfEveryLimiterItCreated()
    {
        var before = Timer.ActiveCount;

        for (var i = 0; i < Instances; i++)
        {
            using var throttle = new LoginThrottle(Options.Create(new LoginOptions()));
            Assert.True(throttle.TryAcquire(IPAddress.Loopback, "alice", out _));
        }

        Assert.InRange(Timer.ActiveCount - before, -Margin, Margin);
    }
}
