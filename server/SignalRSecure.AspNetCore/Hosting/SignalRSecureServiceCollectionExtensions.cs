using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Hosting;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers SignalRSecure: tickets, login sessions, the gate, the protections and secure hubs.</summary>
public static class SignalRSecureServiceCollectionExtensions
{
    /// <summary>The CORS policy granted to <see cref="ProtectionOptions.AllowedOrigins"/>, and to no other origin.</summary>
    public const string CorsPolicy = "SignalRSecure";

    // SignalR's dispatcher logs every invocation, arguments (tickets) included, at Debug, and every HubException
    // (each refused ticket, forbidden group or rate-limited call) at Error with a stack trace. SecureHubFilter logs
    // the failures that matter instead, so this category is silenced whatever the configuration says.
    private const string DispatcherLogCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    /// <summary>
    /// Adds the services behind the auth endpoints and every secure hub, with options bound from
    /// <c>SignalRSecure:*</c> and validated at start-up. Register your own <see cref="ITicketStore"/>,
    /// <see cref="ISessionStore"/>, <see cref="IUserDirectory"/>, <see cref="IUserConnectionRegistry"/> or
    /// <see cref="IGroupRoster"/> first to replace the in-memory defaults. Calling it again does nothing.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddSignalRSecure(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(GateKeeper)))
        {
            return services;
        }

        services.AddValidatedOptions<ProtectionOptions, ProtectionOptionsValidator>(ProtectionOptions.SectionName);
        services.AddValidatedOptions<TicketOptions, TicketOptionsValidator>(TicketOptions.SectionName);
        services.AddValidatedOptions<SecureHubOptions, SecureHubOptionsValidator>(SecureHubOptions.SectionName);
        services.AddValidatedOptions<LoginOptions, LoginOptionsValidator>(LoginOptions.SectionName);
        services.AddValidatedOptions<UserDirectoryOptions, UserDirectoryOptionsValidator>(UserDirectoryOptions.SectionName);
        services.AddValidatedOptions<TlsOptions, TlsOptionsValidator>(TlsOptions.SectionName);
        services.AddValidatedOptions<ProxyOptions, ProxyOptionsValidator>(ProxyOptions.SectionName);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxy) => TrustProxies(forwarded, proxy.Value));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITicketStore, InMemoryTicketStore>();
        services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        services.TryAddSingleton<IUserDirectory, ConfiguredUserDirectory>();
        services.TryAddSingleton<IUserConnectionRegistry, InMemoryUserConnectionRegistry>();
        services.TryAddSingleton<IGroupRoster, InMemoryGroupRoster>();
        services.AddMetrics();
        services.AddSingleton<SecureHubMetrics>();
        services.AddSingleton<OriginPolicy>();
        services.AddSingleton<ConnectionAdmission>();
        services.AddSingleton<NewConnectionPace>();
        services.AddSingleton<NegotiationLimiter>();
        services.TryAddSingleton<IAuthenticationFailureLimiter, AuthenticationFailureLimiter>();
        services.TryAddSingleton<ISharedUserLimits, NodeUserLimits>();
        services.AddSingleton<UserBudgets>();
        services.AddSingleton<TicketService>();
        services.TryAddSingleton<ITicketRedeemer, TicketRedeemer>();
        services.TryAddSingleton<ILoginThrottle, LoginThrottle>();
        services.AddSingleton<PasswordVerificationBudget>();
        services.AddSingleton<GateKeeper>();
        services.AddSingleton<SecureHubFilter>();
        services.AddSingleton<GateConnectionMiddleware>();
        services.AddHostedService<PublicHostCheck>();
        services.AddHealthChecks();

        services.AddRateLimiter(options =>
        {
            options.AddPolicy(AuthEndpoints.RateLimitPolicy, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<TicketOptions>>().Value.RequestsPerIpPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    ClientAddress.PartitionKey(context.Connection.RemoteIpAddress),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
            options.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                context.HttpContext.RequestServices.GetRequiredService<SecureHubMetrics>().RateLimited("requests");
                await SecureEndpointMiddleware.WriteErrorAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, HubErrors.RateLimited);
            };
        });

        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<ProtectionOptions>>((cors, protection) =>
            cors.AddPolicy(CorsPolicy, policy => policy
                .WithOrigins([.. protection.Value.AllowedOrigins])
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders(SecureEndpoints.RequestHeader, "Content-Type", "X-Requested-With", "X-SignalR-User-Agent")
                .AllowCredentials()));

        services.AddOptions<KestrelServerOptions>().Configure<IOptions<TlsOptions>, IOptions<ProtectionOptions>>((kestrel, tls, protection) =>
        {
            kestrel.Limits.RequestHeadersTimeout = protection.Value.RequestHeadersTimeout;
            ConfigureTls(kestrel, tls.Value);
        });

        services.PostConfigure<LoggerFilterOptions>(filters => filters.AddFilter(DispatcherLogCategory, LogLevel.None));
        return services;
    }

    /// <summary>
    /// Puts <typeparamref name="THub"/> behind the gate: its lifetime manager delivers nothing to unauthenticated
    /// connections, its invocations pass the gate filter and run one at a time per connection, and its size limits
    /// and handshake timeout come from <see cref="SecureHubOptions"/>. Map it with <c>MapSecureHub</c>.
    /// </summary>
    /// <remarks>
    /// The gate wraps the lifetime manager the app registers for every hub (the open generic
    /// <c>HubLifetimeManager&lt;&gt;</c>: SignalR's default, or a scale-out one such as Redis's
    /// <c>AddStackExchangeRedis()</c>), whether it is registered before or after this call: the last such registration
    /// is the one wrapped, when the manager is first resolved. It registers SignalR's MessagePack protocol, which
    /// <see cref="SecureHubOptions.Protocols"/> enables for this hub; other hubs of the app accept it too unless their
    /// own <c>SupportedProtocols</c> leave it out.
    /// </remarks>
    /// <typeparam name="THub">A hub deriving from <see cref="SecureHub{TClient}"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>The SignalR builder, to add protocols or further options.</returns>
    public static ISignalRServerBuilder AddSecureHub<THub>(this IServiceCollection services)
        where THub : Hub
    {
        ArgumentNullException.ThrowIfNull(services);

        // SecureHub provides Authenticate, and its release after each invocation is what lets a close follow its reply.
        if (!DerivesFromSecureHub(typeof(THub)))
        {
            throw new ArgumentException($"{typeof(THub).Name} must derive from SecureHub<TClient> to be put behind the gate.", nameof(THub));
        }

        services.AddSignalRSecure();

        // MessagePack is registered whatever the configuration says, since it is read only later: the hub's
        // SupportedProtocols (SecureHubOptionsSetup) decide which protocols its handshake accepts.
        // AddHubOptions marks the hub's options as set; without it SignalR ignores HubOptions<THub> and uses the global ones.
        var signalR = services.AddSignalR().AddMessagePackProtocol().AddHubOptions<THub>(_ => { });
        if (!services.Any(descriptor => descriptor.ServiceType == typeof(HubLifetimeManager<THub>)
                && descriptor.ImplementationFactory?.Target is GatedLifetimeManagerFactory))
        {
            // A closed registration, resolved before SignalR's open generic one; the factory looks for the lifetime
            // manager the app chose only when the manager is first resolved, once every registration is in.
            services.AddSingleton<HubLifetimeManager<THub>>(new GatedLifetimeManagerFactory(services).Create<THub>);
        }

        services.AddSingleton<IPostConfigureOptions<HubOptions<THub>>, SecureHubOptionsSetup<THub>>();
        return signalR;
    }

    private static bool DerivesFromSecureHub(Type hub)
    {
        for (var type = hub.BaseType; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(SecureHub<>))
            {
                return true;
            }
        }

        return false;
    }

    // Only the configured proxies: ASP.NET Core's defaults would trust loopback, which on a shared host is anyone.
    private static void TrustProxies(ForwardedHeadersOptions forwarded, ProxyOptions proxy)
    {
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        forwarded.ForwardLimit = proxy.ForwardLimit;
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var address in proxy.KnownProxies)
        {
            forwarded.KnownProxies.Add(IPAddress.Parse(address));
        }

        foreach (var network in proxy.KnownNetworks)
        {
            forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }
    }

    private static void AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }

    private static void ConfigureTls(KestrelServerOptions kestrel, TlsOptions tls)
    {
        if (!tls.IsConfigured)
        {
            return;
        }

        // An unencrypted PEM key (what `openssl req -nodes` writes) has no password to give CreateFromEncryptedPemFile.
        var certificatePath = TlsOptions.ResolvePath(tls.CertificatePath!);
        var certificate = (tls.KeyPath, tls.CertificatePassword) switch
        {
            (null, var password) => X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password),
            (var key, null or "") => X509Certificate2.CreateFromPemFile(certificatePath, TlsOptions.ResolvePath(key)),
            (var key, var password) => X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, TlsOptions.ResolvePath(key)),
        };
        kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = certificate;
            https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        });

        // Every endpoint speaks TLS, those configured with an http:// URL included: plain HTTP and ws:// cannot connect.
        kestrel.ConfigureEndpointDefaults(endpoint => endpoint.UseHttps());
    }

    private sealed class SecureHubOptionsSetup<THub>(
        IOptions<SecureHubOptions> options, SecureHubFilter filter, IHostEnvironment environment) : IPostConfigureOptions<HubOptions<THub>>
        where THub : Hub
    {
        public void PostConfigure(string? name, HubOptions<THub> hub)
        {
            var value = options.Value;
            hub.MaximumReceiveMessageSize = value.MaximumReceiveMessageSize;
            hub.HandshakeTimeout = value.HandshakeTimeout;

            // SignalR answers a handshake naming any other protocol with its own handshake error.
            hub.SupportedProtocols = [.. value.ProtocolNames];

            // The gate relies on one invocation at a time: nothing runs beside Authenticate, and a close requested
            // by an invocation is sent after its reply.
            hub.MaximumParallelInvocationsPerClient = 1;
            hub.EnableDetailedErrors = environment.IsDevelopment();
            hub.AddFilter(filter);
        }
    }
}
