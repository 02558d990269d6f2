using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.AspNetCore.Hosting;

/// <summary>
/// Builds a secure hub's <see cref="GatedHubLifetimeManager{THub}"/> around the lifetime manager the app registered for
/// every hub: the last open generic <c>HubLifetimeManager&lt;&gt;</c> in the service collection, looked up when the
/// manager is first resolved. So the gate wraps SignalR's default or a scale-out manager (Redis's
/// <c>AddStackExchangeRedis()</c> registers one) whichever order the app registered them in, and never hides one
/// behind a default of its own.
/// </summary>
/// <remarks>
/// The collection is read at resolve time, when the host has made it read-only. The inner manager is built with the
/// container's services but is not registered itself; the gated manager disposes it with the container.
/// </remarks>
internal sealed class GatedLifetimeManagerFactory(IServiceCollection services)
{
    public HubLifetimeManager<THub> Create<THub>(IServiceProvider provider)
        where THub : Hub
    {
        var descriptor = services.LastOrDefault(descriptor =>
                descriptor.ServiceType == typeof(HubLifetimeManager<>) && !descriptor.IsKeyedService && descriptor.ImplementationType is not null)
            ?? throw new InvalidOperationException(
                $"No HubLifetimeManager<> is registered for {typeof(THub).Name}: call services.AddSignalR() (AddSecureHub does) and keep its registration.");
        var inner = (HubLifetimeManager<THub>)ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!.MakeGenericType(typeof(THub)));
        return new GatedHubLifetimeManager<THub>(inner);
    }
}
