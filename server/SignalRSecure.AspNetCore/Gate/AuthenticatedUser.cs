using System.Security.Claims;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>Who an authenticated connection is: taken from the redeemed ticket and from nothing the client sent.</summary>
/// <param name="Name">The user name.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
public sealed record AuthenticatedUser(string Name, IReadOnlyList<string> Groups)
{
    /// <summary>The authentication type of <see cref="ToPrincipal"/>'s identity.</summary>
    public const string AuthenticationType = "SignalRSecureTicket";

    /// <summary>The claim type of each allowed group.</summary>
    public const string GroupClaimType = "signalrsecure:group";

    /// <summary>The principal hub code sees as <c>Context.User</c>.</summary>
    public ClaimsPrincipal ToPrincipal()
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, Name), new(ClaimTypes.NameIdentifier, Name) };
        claims.AddRange(Groups.Select(group => new Claim(GroupClaimType, group)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType));
    }
}
