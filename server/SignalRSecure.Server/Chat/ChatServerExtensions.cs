using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;
using SignalRSecure.StackExchangeRedis.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The whole SignalRSecure chat server, as <c>Program</c> runs it and as the tests host it.</summary>
public static class ChatServerExtensions
{
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Adds the services of the chat server and its telemetry (<c>AddChatTelemetry</c>); with
    /// <c>SignalRSecure:Redis:Configuration</c> set, also the Redis stores and backplane that make it one node of
    /// several (<c>AddSignalRSecureRedis</c>), with the chat history in Redis streams that every node shares.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <returns>The application builder.</returns>
    public static WebApplicationBuilder AddChatServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // An operator who turns on the runtime's inline socket completions wants Kestrel's pipes inline too, as in
        // ASP.NET Core's own benchmarks: one variable for both, off unless set (hub code then runs on the epoll thread).
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1")
        {
            builder.Services.Configure<SocketTransportOptions>(sockets => sockets.UnsafePreferInlineScheduling = true);
        }

        builder.AddChatTelemetry();
        var signalR = builder.Services.AddChatHub();
        var redis = builder.Configuration[$"{RedisOptions.SectionName}:{nameof(RedisOptions.Configuration)}"];
        if (!string.IsNullOrWhiteSpace(redis))
        {
            signalR.AddSignalRSecureRedis(redis);
            builder.Services.Replace(ServiceDescriptor.Singleton<IChatHistory, RedisChatHistory>());
        }

        if (!builder.Configuration.GetValue($"{ChatOptions.SectionName}:{nameof(ChatOptions.History)}", ChatOptions.DefaultHistory))
        {
            builder.Services.Replace(ServiceDescriptor.Singleton<IChatHistory, DisabledChatHistory>());
        }

        return builder;
    }

    /// <summary>Adds the middleware and maps the endpoints of the chat server.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication MapChatServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSignalRSecure();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapSignalRSecureAuth();
        app.MapSecureHub<ChatHub>(ChatEndpoints.Hub);
        app.MapHealthChecks(SecureEndpoints.Health);
        return app;
    }
}
