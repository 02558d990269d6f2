using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Accounts;
using SignalRSecure.Server.Diagnostics;
using SignalRSecure.Server.Gate;
using SignalRSecure.Server.Hosting;
using SignalRSecure.Server.Hubs;
using SignalRSecure.Server.Protection;
using SignalRSecure.Server.Tickets;

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
    /// <see cref="ISessionStore"/>, <see cref="IUserDirectory"/> or <see cref="IUserConnectionRegistry"/> first to
    /// replace the in-memory defaults. Calling it again does nothing.
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

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITicketStore, InMemoryTicketStore>();
        services.TryAddSingleton<ISessionStore, InMemorySessionStore>();
        services.TryAddSingleton<IUserDirectory, ConfiguredUserDirectory>();
        services.TryAddSingleton<IUserConnectionRegistry, InMemoryUserConnectionRegistry>();
        services.AddMetrics();
        services.AddSingleton<SecureHubMetrics>();
        services.AddSingleton<OriginPolicy>();
        services.AddSingleton<ConnectionAdmission>();
        services.AddSingleton<NewConnectionPace>();
        services.AddSingleton<NegotiationLimiter>();
        services.AddSingleton<AuthenticationFailureLimiter>();
        services.AddSingleton<UserBudgets>();
        services.AddSingleton<TicketService>();
        services.AddSingleton<LoginThrottle>();
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
    /// <typeparam name="THub">A hub deriving from <see cref="SecureHub{TClient}"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <returns>The SignalR builder, to add protocols or further options.</returns>
    public static ISignalRServerBuilder AddSecureHub<THub>(this IServiceCollection services)
        where THub : Hub
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSignalRSecure();
        // AddHubOptions marks the hub's options as set; without it SignalR ignores HubOptions<THub> and uses the global ones.
        var signalR = services.AddSignalR().AddHubOptions<THub>(_ => { });
        services.AddSingleton<HubLifetimeManager<THub>>(provider =>
            new GatedHubLifetimeManager<THub>(ActivatorUtilities.CreateInstance<DefaultHubLifetimeManager<THub>>(provider)));
        services.AddSingleton<IPostConfigureOptions<HubOptions<THub>>, SecureHubOptionsSetup<THub>>();
        return signalR;
    }

    /// <summary>Adds the chat hub (<see cref="ChatHub"/>) behind the gate, with its group roster and options.</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The SignalR builder.</returns>
    public static ISignalRServerBuilder AddChatHub(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<ChatOptions, ChatOptionsValidator>(ChatOptions.SectionName);
        services.TryAddSingleton<IGroupRoster, InMemoryGroupRoster>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGroupRightsObserver, ChatGroupRightsObserver>());
        return services.AddSecureHub<ChatHub>();
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

        var certificate = tls.KeyPath is null
            ? X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath!, tls.CertificatePassword)
            : X509Certificate2.CreateFromEncryptedPemFile(tls.CertificatePath!, tls.CertificatePassword ?? string.Empty, tls.KeyPath);
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

            // The gate relies on one invocation at a time: nothing runs beside Authenticate, and a close requested
            // by an invocation is sent after its reply.
            hub.MaximumParallelInvocationsPerClient = 1;
            hub.EnableDetailedErrors = environment.IsDevelopment();
            hub.AddFilter(filter);
        }
    }
}
