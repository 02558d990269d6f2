using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The gate wraps the lifetime manager the app registered for every hub (an open generic, as SignalR's Redis
/// scale-out registers one), whichever side of AddSecureHub it was registered on; it never builds a default of its own.
/// </summary>
public sealed class LifetimeManagerTests
{
    [Fact]
    public void AddSecureHub_HubNotDerivedFromSecureHub_IsRefused()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddSecureHub<PlainHub>());

        Assert.Contains("SecureHub", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(services, descriptor => descriptor.ServiceType == typeof(HubLifetimeManager<PlainHub>));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AddSecureHub_AppRegistersAnOpenGenericManager_TheGateWrapsThatManager(bool registeredBefore)
    {
        // Arrange
        var services = new ServiceCollection().AddLogging().AddSingleton<ManagerCalls>();
        if (registeredBefore)
        {
            RegisterRecordingManager(services);
        }

        services.AddSecureHub<ChatHub>();
        if (!registeredBefore)
        {
            RegisterRecordingManager(services);
        }

        using var provider = services.BuildServiceProvider();

        // Act
        var manager = provider.GetRequiredService<HubLifetimeManager<ChatHub>>();

        // Assert
        var gated = Assert.IsType<GatedHubLifetimeManager<ChatHub>>(manager);
        Assert.IsType<RecordingHubLifetimeManager<ChatHub>>(gated.Inner);
        Assert.Same(manager, provider.GetRequiredService<HubLifetimeManager<ChatHub>>());
    }

    [Fact]
    public void AddSecureHub_NoOtherManager_WrapsSignalRsDefault()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSecureHub<ChatHub>();
        using var provider = services.BuildServiceProvider();

        var gated = Assert.IsType<GatedHubLifetimeManager<ChatHub>>(provider.GetRequiredService<HubLifetimeManager<ChatHub>>());

        Assert.IsType<DefaultHubLifetimeManager<ChatHub>>(gated.Inner);
    }

    [Fact]
    public void AddSecureHub_CalledTwice_RegistersTheGatedManagerOnce()
    {
        var services = new ServiceCollection();

        services.AddSecureHub<ChatHub>();
        services.AddSecureHub<ChatHub>();

        Assert.Single(services, descriptor => descriptor.ServiceType == typeof(HubLifetimeManager<ChatHub>));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Broadcast_ThroughTheAppsManager_ReachesAuthenticatedConnectionsOnly(bool registeredBefore)
    {
        // Arrange: the app's manager registered before or after AddChatServer (which calls AddSecureHub).
        await using var server = await SecureServer.StartAsync(
            services: registeredBefore ? RegisterRecordingManagerWithCalls : null,
            servicesAfter: registeredBefore ? null : RegisterRecordingManagerWithCalls);
        var calls = server.GetRequiredService<ManagerCalls>();
        var aliceTicket = await server.GetTicketAsync(SecureServer.Alice);
        var bobTicket = await server.GetTicketAsync(SecureServer.Bob);
        var listenerTicket = await server.GetTicketAsync(SecureServer.Carol);
        await using var listener = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var alice = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await using var bob = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await alice.CallAsync(nameof(IChatHub.Authenticate), aliceTicket);
        await bob.CallAsync(nameof(IChatHub.Authenticate), bobTicket);

        // Act: a broadcast while the listener is unauthenticated, then one after it authenticated.
        await alice.CallAsync(nameof(IChatHub.Broadcast), "before");
        var bobsCopy = await bob.ReceiveAsync();
        await listener.CallAsync(nameof(IChatHub.Authenticate), listenerTicket);
        await alice.CallAsync(nameof(IChatHub.Broadcast), "after");
        var listenersCopy = await listener.ReceiveAsync();

        // Assert: the listener's first message after its Authenticate answer is the second broadcast; the first never came.
        Assert.Equal("before", Text(bobsCopy));
        Assert.Empty(listener.PassedOver);
        Assert.Equal("after", Text(listenersCopy));
        Assert.Equal(3, calls.Connected);
        Assert.Equal(2, calls.Sends.Count(send => send == "all"));
    }

    [Fact]
    public async Task InnerManager_ConnectionNotAuthenticated_DoesNotKnowIt()
    {
        // Arrange: the app's manager stands for a scale-out one, which delivers what other nodes send straight to the
        // connections it knows, past this node's gated manager.
        await using var server = await SecureServer.StartAsync(servicesAfter: RegisterRecordingManagerWithCalls);
        var calls = server.GetRequiredService<ManagerCalls>();
        var gated = Assert.IsType<GatedHubLifetimeManager<ChatHub>>(server.GetRequiredService<HubLifetimeManager<ChatHub>>());
        var ticket = await server.GetTicketAsync(SecureServer.Carol);
        await using var listener = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);

        // Act: the inner manager's own broadcast (a backplane's delivery) before and after the listener authenticates.
        await gated.Inner.SendAllAsync(nameof(IChatClient.ReceiveMessage), [Message("before")]).WaitAsync(TimeSpan.FromSeconds(10));
        var connectedBefore = calls.Connected;
        await listener.CallAsync(nameof(IChatHub.Authenticate), ticket);
        var connectedAfter = calls.Connected;
        await gated.Inner.SendAllAsync(nameof(IChatClient.ReceiveMessage), [Message("after")]).WaitAsync(TimeSpan.FromSeconds(10));
        var received = await listener.ReceiveAsync();

        // Assert: the inner manager heard of the connection only when it authenticated, before the answer.
        Assert.Equal(0, connectedBefore);
        Assert.Equal(1, connectedAfter);
        Assert.Empty(listener.PassedOver);
        Assert.Equal("after", Text(received));
    }

    [Fact]
    public async Task InnerManager_ConnectionLeaves_HearsOfItsEndOnlyIfItHeardOfItsStart()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync(servicesAfter: RegisterRecordingManagerWithCalls);
        var calls = server.GetRequiredService<ManagerCalls>();
        var ticket = await server.GetTicketAsync(SecureServer.Alice);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var unauthenticated = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        var authenticated = await RawHubSocket.ConnectWithHandshakeAsync(server.WebSocketHubUri);
        await authenticated.CallAsync(nameof(IChatHub.Authenticate), ticket);

        // Act: the unauthenticated one leaves first (its end is logged), then the authenticated one.
        await unauthenticated.DisposeAsync();
        await server.Logs.WaitForAsync(r => r.EventId.Name == "ConnectionClosed", TimeSpan.FromSeconds(10));
        var disconnectedAfterUnauthenticated = calls.Disconnected;
        await authenticated.DisposeAsync();
        var disconnects = await calls.NextDisconnect.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(0, disconnectedAfterUnauthenticated);
        Assert.Equal(1, disconnects);
        Assert.Equal(1, calls.Connected);
    }

    private static ChatMessage Message(string text) => new("server", text, null, DateTimeOffset.UnixEpoch);

    private static string? Text(System.Text.Json.JsonElement message) =>
        message.GetProperty("arguments")[0].GetProperty("text").GetString();

    private static void RegisterRecordingManager(IServiceCollection services) =>
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RecordingHubLifetimeManager<>));

    private static void RegisterRecordingManagerWithCalls(IServiceCollection services)
    {
        services.AddSingleton<ManagerCalls>();
        RegisterRecordingManager(services);
    }

    /// <summary>What the app's lifetime manager was asked to do.</summary>
    public sealed class ManagerCalls
    {
        private int _connected;

        public int Connected => Volatile.Read(ref _connected);

        public ConcurrentQueue<string> Sends { get; } = new();

        public void OnConnected() => Interlocked.Increment(ref _connected);

        private int _disconnected;

        public int Disconnected => Volatile.Read(ref _disconnected);

        public TaskCompletionSource<int> NextDisconnect { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnDisconnected() => NextDisconnect.TrySetResult(Interlocked.Increment(ref _disconnected));
    }

    /// <summary>An app's own lifetime manager for every hub: SignalR's default, recording what passes through it.</summary>
    public sealed class RecordingHubLifetimeManager<THub>(ILogger<DefaultHubLifetimeManager<THub>> logger, ManagerCalls calls)
        : DefaultHubLifetimeManager<THub>(logger)
        where THub : Hub
    {
        public override Task OnConnectedAsync(HubConnectionContext connection)
        {
            calls.OnConnected();
            return base.OnConnectedAsync(connection);
        }

        public override Task OnDisconnectedAsync(HubConnectionContext connection)
        {
            calls.OnDisconnected();
            return base.OnDisconnectedAsync(connection);
        }

        public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default)
        {
            calls.Sends.Enqueue($"group:{groupName}");
            return base.SendGroupAsync(groupName, methodName, args, cancellationToken);
        }

        public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default)
        {
            calls.Sends.Enqueue("all");
            return base.SendAllAsync(methodName, args, cancellationToken);
        }
    }

    /// <summary>A hub that does not derive from SecureHub: no Authenticate, no gate.</summary>
    public sealed class PlainHub : Hub
    {
    }
}
