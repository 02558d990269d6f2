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

    /// <summary>The longest text Echo, Broadcast and SendToGroup accept, in characters. The default is 4,096.</summary>
    public int MaximumTextLength { get; set; } = DefaultMaximumTextLength;

    /// <summary>How many groups one connection may be in at once. The default is 32.</summary>
    public int MaximumGroupsPerConnection { get; set; } = DefaultMaximumGroupsPerConnection;
}
