namespace SignalRSecure.StackExchangeRedis.Gate;

/// <summary>
/// What one node asks the others on the registry channel: close <paramref name="User"/>'s connections with
/// <paramref name="Reason"/>, or give them <paramref name="Groups"/> of the ticket issued at <paramref name="IssuedAt"/>.
/// </summary>
internal sealed record RegistryCommand(string Node, string User, string? Reason, IReadOnlyList<string>? Groups, DateTimeOffset IssuedAt);
