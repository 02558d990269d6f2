namespace SignalRSecure.Server.Chat;

/// <summary>Limits of the chat hub. Bound from <see cref="SectionName"/>.</summary>
public sealed class ChatOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Chat";

    /// <summary>The default of <see cref="MaximumTextLength"/>.</summary>
    public const int DefaultMaximumTextLength = 4_096;

    /// <summary>The default of <see cref="MaximumGroupsPerConnection"/>.</summary>
    public const int DefaultMaximumGroupsPerConnection = 32;

    /// <summary>The default of <see cref="History"/>.</summary>
    public const bool DefaultHistory = true;

    /// <summary>The default of <see cref="HistoryLength"/>.</summary>
    public const int DefaultHistoryLength = 100;

    /// <summary>The default of <see cref="HistoryLifetime"/>.</summary>
    public static readonly TimeSpan DefaultHistoryLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The default of <see cref="HistoryGroups"/>.</summary>
    public const int DefaultHistoryGroups = 128;

    /// <summary>The default of <see cref="HistoryPageSize"/>.</summary>
    public const int DefaultHistoryPageSize = 50;

    /// <summary>The longest text Echo, Broadcast and SendToGroup accept, in characters. The default is 4,096.</summary>
    public int MaximumTextLength { get; set; } = DefaultMaximumTextLength;

    /// <summary>How many groups one connection may be in at once. The default is 32.</summary>
    public int MaximumGroupsPerConnection { get; set; } = DefaultMaximumGroupsPerConnection;

    /// <summary>
    /// Whether groups and the broadcast channel keep history. Off, messages carry no id, GetHistory answers no
    /// messages and RejoinGroup answers <c>recovered: false</c>, so that clients report every reconnect as a possible
    /// gap; the store (memory or Redis) is never written. The default is true.
    /// </summary>
    public bool History { get; set; } = DefaultHistory;

    /// <summary>
    /// How many of its most recent messages each group, and the broadcast channel, keeps for GetHistory and
    /// RejoinGroup; also the most one GetHistory returns. The default is 100.
    /// </summary>
    public int HistoryLength { get; set; } = DefaultHistoryLength;

    /// <summary>How long a message stays in the history after it was sent. The default is 10 minutes.</summary>
    public TimeSpan HistoryLifetime { get; set; } = DefaultHistoryLifetime;

    /// <summary>
    /// How many groups (the broadcast channel included) keep history in one node's memory at once; a new group
    /// evicts the one written to least recently. The Redis history has no such cap: its keys expire after
    /// <see cref="HistoryLifetime"/>. At the defaults, with every message at the 4,096-character cap, the
    /// in-memory history holds at most 128 x 100 messages of about 8.4 KB each: about 108 MB. The default is 128.
    /// </summary>
    public int HistoryGroups { get; set; } = DefaultHistoryGroups;

    /// <summary>How many messages GetHistory returns when the caller gives no limit. The default is 50.</summary>
    public int HistoryPageSize { get; set; } = DefaultHistoryPageSize;
}
