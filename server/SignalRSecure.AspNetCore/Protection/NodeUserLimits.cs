namespace SignalRSecure.AspNetCore.Protection;

/// <summary>The default <see cref="ISharedUserLimits"/>: nothing shared, each node's <see cref="UserBudgets"/> are the limits.</summary>
internal sealed class NodeUserLimits : ISharedUserLimits
{
    public bool IsShared => false;

    public ValueTask<bool> TryAddConnectionAsync(string user, int maximum, CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

    public ValueTask RemoveConnectionAsync(string user, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask<int?> LeaseInvocationsAsync(string user, CancellationToken cancellationToken = default) => ValueTask.FromResult<int?>(null);
}
