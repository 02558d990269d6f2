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

    /// <summary>The default of <see cref="UserInvocationLease"/>.</summary>
    public const int DefaultUserInvocationLease = 10;

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
    /// How long a node may miss its heartbeats before the others take its connections out of the group roster (and
    /// announce <c>UserLeft</c> for them) and out of the per-user connection counts. Each node refreshes its heartbeat
    /// every third of it and looks for stopped nodes every sixth. 1 second to 5 minutes. The default is 15 seconds.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = DefaultNodeTimeout;

    /// <summary>
    /// Invocations a node takes at once from a user's shared invocation budget (<c>SignalRSecure:Hub:UserInvocationsPerSecond</c>)
    /// and spends locally, so that only one call in this many costs a round trip to Redis. A user can exceed the budget
    /// by at most (this - 1) per node holding a lease. 1 to 1,000. The default is 10.
    /// </summary>
    public int UserInvocationLease { get; set; } = DefaultUserInvocationLease;

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
            .Require(options.NodeTimeout >= TimeSpan.FromSeconds(1) && options.NodeTimeout <= TimeSpan.FromMinutes(5),
                nameof(options.NodeTimeout), "must be between 1 second and 5 minutes")
            .Require(options.UserInvocationLease is >= 1 and <= 1_000, nameof(options.UserInvocationLease), "must be between 1 and 1000")
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
