using System.Security.Claims;
using System.Security.Principal;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The connection's <c>Context.User</c>: a principal that always shows the gate's current identity (anonymous before
/// Authenticate, the ticket's user after it, the fresh ticket's groups after Reauthenticate).
/// </summary>
/// <remarks>
/// SignalR reads the user once, when the handshake completes, and keeps that object for the life of the connection;
/// a principal swapped in at Authenticate would never be seen. This one stays the same object and looks up the
/// identity on every question instead. It cannot be given other identities.
/// </remarks>
internal sealed class GatePrincipal(ConnectionGate gate) : ClaimsPrincipal
{
    public override IEnumerable<Claim> Claims => gate.CurrentPrincipal.Claims;

    public override IEnumerable<ClaimsIdentity> Identities => gate.CurrentPrincipal.Identities;

    public override IIdentity? Identity => gate.CurrentPrincipal.Identity;

    public override bool IsInRole(string role) => gate.CurrentPrincipal.IsInRole(role);

    public override IEnumerable<Claim> FindAll(Predicate<Claim> match) => gate.CurrentPrincipal.FindAll(match);

    public override IEnumerable<Claim> FindAll(string type) => gate.CurrentPrincipal.FindAll(type);

    public override Claim? FindFirst(Predicate<Claim> match) => gate.CurrentPrincipal.FindFirst(match);

    public override Claim? FindFirst(string type) => gate.CurrentPrincipal.FindFirst(type);

    public override bool HasClaim(Predicate<Claim> match) => gate.CurrentPrincipal.HasClaim(match);

    public override bool HasClaim(string type, string value) => gate.CurrentPrincipal.HasClaim(type, value);

    public override ClaimsPrincipal Clone() => gate.CurrentPrincipal.Clone();

    public override void WriteTo(BinaryWriter writer) => gate.CurrentPrincipal.WriteTo(writer);

    public override void AddIdentity(ClaimsIdentity identity) => throw CannotAddIdentities();

    public override void AddIdentities(IEnumerable<ClaimsIdentity> identities) => throw CannotAddIdentities();

    private static NotSupportedException CannotAddIdentities() =>
        new("The user of a secure hub connection comes from its ticket; identities cannot be added to it.");
}
