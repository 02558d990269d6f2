using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;
using StackExchange.Redis;

namespace SignalRSecure.StackExchangeRedis.Hosting;

/// <summary>Where SignalRSecure keeps its shared state when it runs as several nodes. Bound from <see cref="SectionName"/>.</summary>
public sealed class RedisOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Redis";

    /// <summary>The default of <see cref="ChannelPrefix"/>.</summary>
    public const string DefaultChannelPrefix = "signalrsecure:";

    /// <summary>The default of <see cref="NodeTimeout"/>.</summary>
    public static readonly TimeSpan DefaultNodeTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>localhost:6379</c>, <c>redis1:6379,redis2:6379,password=...</c>).
    /// The default is none: one process, everything in memory.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// The prefix of every key and channel, so that several applications can share one Redis. SignalR glues it to its
    /// own channel names without a separator, so end it with one. The default is <c>signalrsecure:</c>.
    /// </summary>
    public string ChannelPrefix { get; set; } = DefaultChannelPrefix;

    /// <summary>
    /// How long a node may miss its heartbeats before the others take its users out of presence. The default is 15 seconds.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = DefaultNodeTimeout;

    /// <summary>Whether a Redis is configured.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Configuration);
}

internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options) =>
        new OptionsErrors(RedisOptions.SectionName)
            .Require(!options.IsConfigured || Parses(options.Configuration!), nameof(options.Configuration), "is not a StackExchange.Redis configuration string")
            .Require(options.ChannelPrefix.Length is > 0 and <= 64 && options.ChannelPrefix.All(c => c is > ' ' and < '\u007f'),
                nameof(options.ChannelPrefix), "must be 1 to 64 printable ASCII characters without spaces")
            .Positive(nameof(options.NodeTimeout), options.NodeTimeout, TimeSpan.FromMinutes(5))
            .Result();

    private static bool Parses(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
