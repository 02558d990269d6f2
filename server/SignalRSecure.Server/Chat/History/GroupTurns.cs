namespace SignalRSecure.Server.Chat.History;

/// <summary>
/// One turn at a time per group for append-and-deliver. Striped over a fixed set of semaphores, so that any number of
/// group names takes the same memory; two groups on one stripe merely wait for each other.
/// </summary>
internal sealed class GroupTurns
{
    private const int Stripes = 64;

    private readonly SemaphoreSlim[] _turns = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>Waits for the group's turn; disposing the result ends it.</summary>
    public async ValueTask<Turn> EnterAsync(string? group, CancellationToken cancellationToken)
    {
        var turn = _turns[(uint)StringComparer.Ordinal.GetHashCode(group ?? string.Empty) % Stripes];
        await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Turn(turn);
    }

    public readonly struct Turn(SemaphoreSlim turn) : IDisposable
    {
        public void Dispose() => turn.Release();
    }
}
