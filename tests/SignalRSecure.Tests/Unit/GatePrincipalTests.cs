using System.Security.Claims;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The connection's <c>Context.User</c>: one object for the connection's life that always answers with the gate's
/// current identity, and refuses identities from anywhere else.
/// </summary>
public sealed class GatePrincipalTests
{
    [Fact]
    public void GatePrincipal_BeforeAuthenticate_IsAnonymous()
    {
        using var testbed = new GateTestbed();
        var connection = testbed.Open();

        var user = new GatePrincipal(connection.Gate);

        Assert.False(user.Identity?.IsAuthenticated);
        Assert.Empty(user.Claims);
        Assert.Null(user.FindFirst(ClaimTypes.Name));
        Assert.False(user.HasClaim(ClaimTypes.Name, "alice"));
    }

    [Fact]
    public async Task GatePrincipal_AfterAuthenticate_ShowsTheTicketsUserAndGroups()
    {
        // Arrange: the principal exists before Authenticate, as SignalR's does.
        using var testbed = new GateTestbed();
        var connection = testbed.Open();
        var user = new GatePrincipal(connection.Gate);

        // Act
        await testbed.AuthenticateAsync(connection, "alice", ["general", "ops"]);

        // Assert
        Assert.True(user.Identity?.IsAuthenticated);
        Assert.Equal("alice", user.Identity?.Name);
        var identity = Assert.Single(user.Identities);
        Assert.Equal("alice", identity.Name);
        Assert.Equal(connection.Gate.CurrentPrincipal.Claims.Select(Text), user.Claims.Select(Text));
        Assert.Equal("alice", user.FindFirst(ClaimTypes.NameIdentifier)?.Value);
        Assert.Equal("alice", user.FindFirst(claim => claim.Type == ClaimTypes.Name)?.Value);
        Assert.Equal(["general", "ops"], user.FindAll(AuthenticatedUser.GroupClaimType).Select(claim => claim.Value));
        Assert.Equal(["general", "ops"], user.FindAll(claim => claim.Type == AuthenticatedUser.GroupClaimType).Select(claim => claim.Value));
        Assert.True(user.HasClaim(AuthenticatedUser.GroupClaimType, "ops"));
        Assert.False(user.HasClaim(AuthenticatedUser.GroupClaimType, "admins"));
        Assert.True(user.HasClaim(claim => claim.Value == "general"));
        Assert.False(user.HasClaim(claim => claim.Value == "admins"));
        Assert.False(user.IsInRole("ops"));
    }

    [Fact]
    public async Task Clone_AndWriteTo_CopyTheGatesCurrentIdentity()
    {
        using var testbed = new GateTestbed();
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "bob", ["general"]);
        var user = new GatePrincipal(connection.Gate);

        var clone = user.Clone();
        using var written = new MemoryStream();
        using (var writer = new BinaryWriter(written, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            user.WriteTo(writer);
        }

        written.Position = 0;
        using var reader = new BinaryReader(written);
        var read = new ClaimsPrincipal(reader);

        Assert.IsNotType<GatePrincipal>(clone);
        Assert.Equal("bob", clone.Identity?.Name);
        Assert.Equal(["general"], clone.FindAll(AuthenticatedUser.GroupClaimType).Select(claim => claim.Value));
        Assert.Equal("bob", read.Identity?.Name);
        Assert.Equal(user.Claims.Select(Text), read.Claims.Select(Text));
    }

    [Fact]
    public async Task AddIdentity_AnyIdentity_IsRefusedAndChangesNothing()
    {
        using var testbed = new GateTestbed();
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection, "alice");
        var user = new GatePrincipal(connection.Gate);
        var admin = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(AuthenticatedUser.GroupClaimType, "admins")], "forged");

        var one = Assert.Throws<NotSupportedException>(() => user.AddIdentity(admin));
        var many = Assert.Throws<NotSupportedException>(() => user.AddIdentities([admin]));

        Assert.Contains("cannot be added", one.Message, StringComparison.Ordinal);
        Assert.Equal(one.Message, many.Message);
        Assert.Equal("alice", user.Identity?.Name);
        Assert.False(user.HasClaim(AuthenticatedUser.GroupClaimType, "admins"));
        Assert.Single(user.Identities);
    }

    private static string Text(Claim claim) => $"{claim.Type}={claim.Value}";
}
