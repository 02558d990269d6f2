using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The whole SignalRSecure chat server, as <c>Program</c> runs it and as the tests host it.</summary>
public static class ChatServerExtensions
{
    /// <summary>Adds the services of the chat server.</summary>
    /// <param name="builder">The application builder.</param>
    /// <returns>The application builder.</returns>
    public static WebApplicationBuilder AddChatServer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddChatHub();
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
