using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Server.Chat;
using SignalRSecure.StackExchangeRedis.Accounts;
using SignalRSecure.StackExchangeRedis.Gate;
using SignalRSecure.StackExchangeRedis.Tickets;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The chat app on Redis when <c>SignalRSecure:Redis:Configuration</c> is set, and exactly as before when it is not:
/// resolved from the real service provider (nothing connects to Redis).
/// </summary>
public sealed class ScaleOutRegistrationTests
{
    [Fact]
    public async Task AddChatServer_RedisConfigured_GatesTheRedisManagerAndUsesTheRedisStores()
    {
        await using var app = Build(new() { ["SignalRSecure:Redis:Configuration"] = "127.0.0.1:1", ["SignalRSecure:Redis:ChannelPrefix"] = "cluster-a:" });

        var gated = Assert.IsType<GatedHubLifetimeManager<ChatHub>>(app.Services.GetRequiredService<HubLifetimeManager<ChatHub>>());

        Assert.IsType<RedisHubLifetimeManager<ChatHub>>(gated.Inner);
        Assert.IsType<RedisTicketStore>(app.Services.GetRequiredService<ITicketStore>());
        Assert.IsType<RedisTicketRedeemer>(app.Services.GetRequiredService<ITicketRedeemer>());
        Assert.IsType<RedisSessionStore>(app.Services.GetRequiredService<ISessionStore>());
        Assert.IsType<RedisUserConnectionRegistry>(app.Services.GetRequiredService<IUserConnectionRegistry>());
        Assert.Equal("cluster-a:", app.Services.GetRequiredService<IOptions<RedisOptions>>().Value.Configuration.ChannelPrefix.ToString());
    }

    [Fact]
    public async Task AddChatServer_RedisNotConfigured_KeepsTheDefaultManagerAndTheMemoryStores()
    {
        await using var app = Build([]);

        var gated = Assert.IsType<GatedHubLifetimeManager<ChatHub>>(app.Services.GetRequiredService<HubLifetimeManager<ChatHub>>());

        Assert.IsType<DefaultHubLifetimeManager<ChatHub>>(gated.Inner);
        Assert.IsType<InMemoryTicketStore>(app.Services.GetRequiredService<ITicketStore>());
        Assert.IsType<TicketRedeemer>(app.Services.GetRequiredService<ITicketRedeemer>());
    }

    [Fact]
    public async Task AddSignalRSecureRedis_WithAnAppsOwnTicketStore_RedeemsThroughThatStore()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSecureHub<ChatHub>().AddSignalRSecureRedis("127.0.0.1:1");
        services.Replace(ServiceDescriptor.Singleton<ITicketStore, InMemoryTicketStore>());
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());

        await using var provider = services.BuildServiceProvider();

        Assert.IsType<TicketRedeemer>(provider.GetRequiredService<ITicketRedeemer>());
    }

    [Fact]
    public void AddSignalRSecureRedis_BeforeOrAfterAddSecureHub_ReplacesTheMemoryStores()
    {
        var before = new ServiceCollection().AddLogging();
        before.AddSignalR().AddSignalRSecureRedis("127.0.0.1:1");
        before.AddSecureHub<ChatHub>();
        var after = new ServiceCollection().AddLogging();
        after.AddSecureHub<ChatHub>().AddSignalRSecureRedis("127.0.0.1:1");

        foreach (var services in new[] { before, after })
        {
            var store = Assert.Single(services, descriptor => descriptor.ServiceType == typeof(ITicketStore));
            Assert.Equal(typeof(RedisTicketStore), store.ImplementationType);
            Assert.Equal(typeof(RedisSessionStore), Assert.Single(services, descriptor => descriptor.ServiceType == typeof(ISessionStore)).ImplementationType);
        }
    }

    private static WebApplication Build(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddChatServer();
        return builder.Build();
    }
}
