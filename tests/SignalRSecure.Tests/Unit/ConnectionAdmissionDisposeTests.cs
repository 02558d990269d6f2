using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// A disposed admission leaves nothing running. Counts the process's active timers, so it runs alone, after the
/// parallel tests.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class ConnectionAdmissionDisposeTests
{
    [Fact]
    public void Dispose_StopsTheTimersOfEveryLimiterItCreated()
    {
        const int admissions = 200;
        var before = Timer.ActiveCount;

        for (var i = 0; i < admissions; i++)
        {
            using var admission = new ConnectionAdmission(Options.Create(new ProtectionOptions()));
            Assert.NotNull(admission.TryAdmit(IPAddress.Loopback));
        }

        // Each of the three partitioned limiters runs a timer until disposed: one left behind per admission would add
        // 200; a margin of 50 leaves room for timers other code in the process starts or stops meanwhile.
        Assert.InRange(Timer.ActiveCount - before, -50, 50);
    }
}
