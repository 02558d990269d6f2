using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.StackExchangeRedis.Accounts;
using SignalRSecure.StackExchangeRedis.Gate;
using SignalRSecure.StackExchangeRedis.Groups;
using SignalRSecure.StackExchangeRedis.Hosting;
using SignalRSecure.StackExchangeRedis.Protection;
using SignalRSecure.StackExchangeRedis.Tickets;
using StackExchange.Redis;
using BackplaneOptions = Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisOptions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Shares a SignalRSecure server's state with its other nodes through Redis.</summary>
public static class SignalRSecureRedisBuilderExtensions
{
    /// <summary>
    /// Makes this node one of several behind the same Redis: tickets and login sessions live in Redis (a ticket minted
    /// on one node is redeemed once on any), logout, revocation and group-rights changes reach the user's connections
    /// on every node through a registry channel, SignalR's Redis backplane carries <c>Clients.All</c>, groups,
    /// users and single connections across nodes, under the gate's lifetime manager, and the group roster, the
    /// authentication lockout, the login throttles and the per-user limits are counted for all nodes together, with
    /// node heartbeats clearing up after a node that stops. Replaces the in-memory stores, registry and counters
    /// whether it is called before or after <c>AddSecureHub</c>. The app can keep data of its own on the same connection
    /// through <see cref="ISignalRSecureRedisConnection"/>.
    /// </summary>
    /// <param name="signalR">The SignalR builder (from <c>AddSecureHub</c> or <c>AddSignalR</c>).</param>
    /// <param name="configuration">The StackExchange.Redis configuration string, such as <c>redis-host:6379</c>.</param>
    /// <param name="configure">Changes the other <see cref="RedisOptions"/> (bound from <c>SignalRSecure:Redis</c> first).</param>
    /// <returns>The SignalR builder.</returns>
    public static ISignalRServerBuilder AddSignalRSecureRedis(this ISignalRServerBuilder signalR, string configuration, Action<RedisOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(signalR);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var services = signalR.Services;
        services.AddOptions<RedisOptions>()
            .BindConfiguration(RedisOptions.SectionName)
            .Configure(options =>
            {
                options.Configuration = configuration;
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>());
        services.TryAddSingleton(provider => new RedisConnection(provider.GetRequiredService<IOptions<RedisOptions>>().Value.Configuration!));
        services.TryAddSingleton<ISignalRSecureRedisConnection>(provider => provider.GetRequiredService<RedisConnection>());
        services.TryAddSingleton(provider => new RedisKeys(provider.GetRequiredService<IOptions<RedisOptions>>().Value.ChannelPrefix));

        services.TryAddSingleton<RedisNode>();

        // Replace, not TryAdd: AddSecureHub may already have registered the in-memory stores (it only TryAdds them).
        services.Replace(ServiceDescriptor.Singleton<ITicketStore, RedisTicketStore>());
        services.Replace(ServiceDescriptor.Singleton<ISessionStore, RedisSessionStore>());
        services.Replace(ServiceDescriptor.Singleton<IUserConnectionRegistry, RedisUserConnectionRegistry>());
        services.Replace(ServiceDescriptor.Singleton<IAuthenticationFailureLimiter, RedisAuthenticationFailureLimiter>());
        services.Replace(ServiceDescriptor.Singleton<ILoginThrottle, RedisLoginThrottle>());

        // One script for the lockout and the ticket, as long as both are the Redis ones (an app may still replace either).
        services.Replace(ServiceDescriptor.Singleton<ITicketRedeemer>(provider =>
            provider.GetRequiredService<ITicketStore>() is RedisTicketStore && provider.GetRequiredService<IAuthenticationFailureLimiter>() is RedisAuthenticationFailureLimiter lockout
                ? ActivatorUtilities.CreateInstance<RedisTicketRedeemer>(provider, lockout)
                : ActivatorUtilities.CreateInstance<TicketRedeemer>(provider)));
        services.TryAddSingleton<RedisUserLimits>();
        services.Replace(ServiceDescriptor.Singleton<ISharedUserLimits>(provider => provider.GetRequiredService<RedisUserLimits>()));
        services.TryAddSingleton<RedisGroupRoster>();
        services.Replace(ServiceDescriptor.Singleton<IGroupRoster>(provider => provider.GetRequiredService<RedisGroupRoster>()));

        // Resolvable by its type too, so that a host (or a test playing a crash) can stop the heartbeat alone.
        if (!services.Any(descriptor => descriptor.ServiceType == typeof(NodeHeartbeat)))
        {
            services.AddSingleton<NodeHeartbeat>();
            services.AddHostedService(provider => provider.GetRequiredService<NodeHeartbeat>());
        }

        // SignalR's backplane registers the open generic HubLifetimeManager<>, which the gate wraps; its channels share
        // the prefix of the keys, so that two deployments on one Redis stay apart.
        signalR.AddStackExchangeRedis(configuration);
        services.AddOptions<BackplaneOptions>().Configure<IOptions<RedisOptions>>((backplane, options) =>
            backplane.Configuration.ChannelPrefix = RedisChannel.Literal(options.Value.ChannelPrefix));
        return signalR;
    }
}
