namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Hands out one <see cref="AuthenticatedUser"/> (name, group list and their strings) for the connections of a user
/// that authenticated with the same groups, instead of one per connection: identities are immutable, so sharing them
/// changes nothing but memory. A small direct-mapped table, so it never grows: a user whose slot another user took
/// just gets an identity of its own again.
/// </summary>
internal sealed class SharedIdentities
{
    private const int Slots = 1024;

    private readonly AuthenticatedUser?[] _slots = new AuthenticatedUser?[Slots];

    /// <summary>An identity equal to <paramref name="name"/> with <paramref name="groups"/>, shared when one is at hand.</summary>
    public AuthenticatedUser Share(string name, IReadOnlyList<string> groups)
    {
        // Stryker disable once Statement: equivalent, the ordinal hash of a null name throws the same ArgumentNullException
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(groups);
        var slot = (int)((uint)StringComparer.Ordinal.GetHashCode(name) % Slots);
        if (Volatile.Read(ref _slots[slot]) is { } shared
            && string.Equals(shared.Name, name, StringComparison.Ordinal)
            && shared.Groups.SequenceEqual(groups, StringComparer.Ordinal))
        {
            return shared;
        }

        var identity = new AuthenticatedUser(name, groups);
        Volatile.Write(ref _slots[slot], identity);
        return identity;
    }
}
