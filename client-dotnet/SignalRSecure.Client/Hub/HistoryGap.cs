namespace SignalRSecure.Client;

/// <summary>
/// A reconnect could not recover every message of a group: the server's history no longer reached back to the last
/// one this client delivered. Messages may be missing before those delivered after it.
/// </summary>
/// <param name="Group">The group, or null for the broadcast channel.</param>
public sealed record HistoryGap(string? Group);
