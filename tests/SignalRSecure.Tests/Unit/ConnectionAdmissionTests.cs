using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.Tests.Unit;

/// <summary>The admission caps at their exact limits, and the permits an admitted connection holds and gives back.</summary>
public sealed class ConnectionAdmissionTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    [Fact]
    public void TryAdmit_ExactlyThePerIpCap_IsAdmitted_OneMore_IsRefused()
    {
        using var admission = Admission(maxConnectionsPerIp: 3, maxUnauthenticatedPerIp: 10);

        var admitted = Enumerable.Range(0, 3).Select(_ => admission.TryAdmit(Client)).ToList();
        var fourth = admission.TryAdmit(Client);

        Assert.All(admitted, Assert.NotNull);
        Assert.Null(fourth);
    }

    [Fact]
    public void TryAdmit_ExactlyTheUnauthenticatedCaps_IsAdmitted_OneMore_IsRefused()
    {
        using var perIp = Admission(maxConnectionsPerIp: 10, maxUnauthenticatedPerIp: 2);
        using var overall = Admission(maxConnectionsPerIp: 10, maxUnauthenticatedPerIp: 10, maxUnauthenticated: 2);

        Assert.NotNull(perIp.TryAdmit(Client));
        Assert.NotNull(perIp.TryAdmit(Client));
        Assert.Null(perIp.TryAdmit(Client));
        Assert.NotNull(overall.TryAdmit(IPAddress.Parse("10.0.0.1")));
        Assert.NotNull(overall.TryAdmit(IPAddress.Parse("10.0.0.2")));
        Assert.Null(overall.TryAdmit(IPAddress.Parse("10.0.0.3")));
    }

    [Fact]
    public void TryAdmit_RefusedForTheUnauthenticatedCap_DoesNotKeepTheConnectionPermitItTook()
    {
        using var admission = Admission(maxConnectionsPerIp: 2, maxUnauthenticatedPerIp: 1);
        var first = admission.TryAdmit(Client)!;

        // The connection cap had room; the unauthenticated one had not.
        var refused = admission.TryAdmit(Client);
        first.MarkAuthenticated();
        var second = admission.TryAdmit(Client);
        second?.MarkAuthenticated();
        var third = admission.TryAdmit(Client);

        Assert.Null(refused);
        Assert.NotNull(second);
        Assert.Null(third);
    }

    [Fact]
    public void MarkAuthenticated_KeepsTheConnectionPermitUntilDispose()
    {
        using var admission = Admission(maxConnectionsPerIp: 1, maxUnauthenticatedPerIp: 1);
        var first = admission.TryAdmit(Client)!;

        first.MarkAuthenticated();
        var whileOpen = admission.TryAdmit(Client);
        first.Dispose();
        var afterClose = admission.TryAdmit(Client);

        Assert.Null(whileOpen);
        Assert.NotNull(afterClose);
    }

    [Fact]
    public void Dispose_Unauthenticated_GivesBackBothPermits()
    {
        using var admission = Admission(maxConnectionsPerIp: 1, maxUnauthenticatedPerIp: 1, maxUnauthenticated: 1);
        var first = admission.TryAdmit(Client)!;
        Assert.Null(admission.TryAdmit(IPAddress.Parse("10.0.0.1")));

        first.Dispose();

        Assert.NotNull(admission.TryAdmit(Client));
    }

    [Fact]
    public void MarkAuthenticatedAndDispose_Repeated_GiveBackTheirPermitsOnce()
    {
        // Arrange: two connections from one address under a cap of two; one authenticates and closes twice over.
        using var admission = Admission(maxConnectionsPerIp: 2, maxUnauthenticatedPerIp: 2);
        var first = admission.TryAdmit(Client)!;
        var second = admission.TryAdmit(Client)!;

        // Act
        first.MarkAuthenticated();
        first.MarkAuthenticated();
        first.Dispose();
        first.Dispose();
        var third = admission.TryAdmit(Client);
        var fourth = admission.TryAdmit(Client);

        // Assert: the closed connection freed exactly one place; the second still holds its own.
        Assert.NotNull(third);
        Assert.Null(fourth);
        second.Dispose();
        Assert.NotNull(admission.TryAdmit(Client));
    }

    [Fact]
    public void TryAdmit_IPv6AddressesOfOneSlash64_ShareTheirCap()
    {
        using var admission = Admission(maxConnectionsPerIp: 1, maxUnauthenticatedPerIp: 10);

        Assert.NotNull(admission.TryAdmit(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Null(admission.TryAdmit(IPAddress.Parse("2001:db8:1:2::2")));
        Assert.NotNull(admission.TryAdmit(IPAddress.Parse("2001:db8:1:3::1")));
    }

    [Fact]
    public void TryAdmit_AfterDispose_ThrowsInsteadOfAdmittingUncounted()
    {
        var admission = Admission(maxConnectionsPerIp: 10, maxUnauthenticatedPerIp: 10);
        Assert.NotNull(admission.TryAdmit(Client));

        admission.Dispose();

        Assert.Throws<ObjectDisposedException>(() => admission.TryAdmit(Client));
    }

    private static ConnectionAdmission Admission(int maxConnectionsPerIp, int maxUnauthenticatedPerIp, int maxUnauthenticated = 1000) =>
        new(Options.Create(new ProtectionOptions
        {
            MaxConnectionsPerIp = maxConnectionsPerIp,
            MaxUnauthenticatedConnectionsPerIp = maxUnauthenticatedPerIp,
            MaxUnauthenticatedConnections = maxUnauthenticated,
        }));
}
