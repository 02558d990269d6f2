namespace SignalRSecure.AspNetCore.Gate;

/// <summary>Hears when a <see cref="ConnectionGate"/> authenticates (the hub's lifetime manager, to stop holding its messages back).</summary>
internal interface IGateObserver
{
    /// <summary>Called once, right after <paramref name="gate"/> became authenticated.</summary>
    void OnAuthenticated(ConnectionGate gate);
}
