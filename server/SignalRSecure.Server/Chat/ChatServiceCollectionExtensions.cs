using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Server.Chat;
using SignalRSecure.Server.Chat.History;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the chat hub on the SignalRSecure gate.</summary>
public static class ChatServiceCollectionExtensions
{
    /// <summary>
    /// Adds the chat hub (<see cref="ChatHub"/>) behind the gate (<c>AddSecureHub</c>), with its options and the
    /// observers that end memberships a newer ticket no longer allows and announce the departures a shared roster
    /// sweeps after a node stopped. The group roster is the gate's
    /// (<c>IGroupRoster</c>, in memory unless the app registers a shared one); the history (<see cref="IChatHistory"/>) is
    /// the node's memory unless the app registered another.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The SignalR builder.</returns>
    public static ISignalRServerBuilder AddChatHub(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ChatOptions>().BindConfiguration(ChatOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChatOptions>, ChatOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IChatHistory, InMemoryChatHistory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGroupRightsObserver, ChatGroupRightsObserver>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGroupDepartureObserver, ChatDepartureObserver>());
        return services.AddSecureHub<ChatHub>();
    }
}
