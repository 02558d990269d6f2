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

    public static IServiceCollection AddBenchVariant(this IServiceCollection services, BenchMode mode)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(TimeProvider.System);
        switch (mode)
        {
            case BenchMode.Plain:
                // MessagePack beside JSON, for the benchmark's MessagePack scenario; a JSON client never touches it.
                services.AddSignalR().AddMessagePackProtocol();
                break;
            case BenchMode.Stock:
                services.AddBenchTokenAuthentication();
                services.AddAuthorization();
                services.AddSignalR();
                break;
            case BenchMode.Raw:
                services.AddSingleton<RawBroadcaster>();
                break;
        }

        return services;
    }

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
