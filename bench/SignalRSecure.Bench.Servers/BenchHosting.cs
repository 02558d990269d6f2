using Microsoft.AspNetCore.SignalR;
using SignalRSecure.Bench.Servers.Hubs;
using SignalRSecure.Bench.Servers.Raw;
using SignalRSecure.Bench.Servers.Stock;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Bench.Servers;

/// <summary>The services and endpoints of each variant.</summary>
internal static class BenchHosting
{
    // The real server's default (SignalRSecure:Protection:RequestHeadersTimeout), so Kestrel is configured alike.
    private static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The real server's key for its Redis; set, A and B use SignalR's Redis backplane.</summary>
    private const string RedisConfigurationKey = "SignalRSecure:Redis:Configuration";

    public static WebApplicationBuilder AddBenchKestrel(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout);

        // Like the real server (ChatServerExtensions): Kestrel's pipes inline when the runtime's socket completions are.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1")
        {
            builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        return builder;
    }

    public static IServiceCollection AddBenchVariant(this IServiceCollection services, BenchMode mode, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(TimeProvider.System);

        // The scale-out scenario's reference: stock SignalR on its own Redis backplane, configured by the same key as G.
        var redis = configuration[RedisConfigurationKey];
        switch (mode)
        {
            case BenchMode.Plain:
                // MessagePack beside JSON, for the benchmark's MessagePack scenario; a JSON client never touches it.
                services.AddSignalR().AddMessagePackProtocol().AddBackplane(redis);
                break;
            case BenchMode.Stock:
                services.AddBenchTokenAuthentication();
                services.AddAuthorization();
                services.AddSignalR().AddBackplane(redis);
                break;
            case BenchMode.Raw:
                services.AddSingleton<RawBroadcaster>();
                break;
        }

        return services;
    }

    private static ISignalRServerBuilder AddBackplane(this ISignalRServerBuilder signalR, string? redis) =>
        string.IsNullOrEmpty(redis) ? signalR : signalR.AddStackExchangeRedis(redis);

    public static WebApplication MapBenchVariant(this WebApplication app, BenchMode mode)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet(SecureEndpoints.Health, () => "ok");
        switch (mode)
        {
            case BenchMode.Plain:
                app.MapHub<PlainChatHub>(ChatEndpoints.Hub);
                break;
            case BenchMode.Stock:
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapHub<AuthorizedChatHub>(ChatEndpoints.Hub);
                break;
            case BenchMode.Raw:
                app.UseWebSockets();
                app.MapRawWebSockets();
                break;
        }

        return app;
    }
}
