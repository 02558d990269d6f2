using Microsoft.AspNetCore.SignalR;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Hears when a <see cref="ConnectionGate"/> authenticates: the hub's lifetime manager, which hands the connection to
/// the manager it wraps only then, so that nothing (on this node or another) can reach it before.
/// </summary>
internal interface IGateObserver
{
    /// <summary>Called once, after <paramref name="gate"/> became authenticated and before Authenticate answers.</summary>
    Task OnAuthenticatedAsync(ConnectionGate gate, HubConnectionContext connection);
}
