using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>A user configured on every test server.</summary>
public sealed record TestUser(string Name, string Password, string[] Groups);

/// <summary>
/// The real chat server (the same <c>AddChatServer</c>/<c>MapChatServer</c> as <c>Program</c>) on Kestrel at
/// 127.0.0.1 with a random port, test users, a known issuer key, and every log record captured at Trace.
/// </summary>
public sealed class SecureServer : IAsyncDisposable
{
    public static readonly TestUser Alice = new("alice", "alice-password", ["general", "ops"]);
    public static readonly TestUser Bob = new("bob", "bob-password", ["general"]);
    public static readonly TestUser Carol = new("carol", "carol-password", ["team-*"]);
    public const string IssuerKey = "test-issuer-key-0123456789-abcdefghijklmnop";

    // Low PBKDF2 cost keeps logins fast in tests; production hashes use the default 600,000 iterations.
    private static readonly Lazy<Dictionary<string, string?>> UserSettings = new(() =>
    {
        var settings = new Dictionary<string, string?>();
        TestUser[] users = [Alice, Bob, Carol];
        for (var i = 0; i < users.Length; i++)
        {
            settings[$"SignalRSecure:Users:{i}:Name"] = users[i].Name;
            settings[$"SignalRSecure:Users:{i}:PasswordHash"] = PasswordHasher.Hash(users[i].Password, iterations: 1_000);
            for (var g = 0; g < users[i].Groups.Length; g++)
            {
                settings[$"SignalRSecure:Users:{i}:Groups:{g}"] = users[i].Groups[g];
            }
        }

        return settings;
    });

    private readonly WebApplication _app;

    private SecureServer(WebApplication app, CapturedLogs logs, Uri baseAddress)
    {
        _app = app;
        Logs = logs;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri HubUri => new(BaseAddress, ChatEndpoints.Hub);

    /// <summary>The hub's WebSocket address, for raw clients that skip negotiate.</summary>
    public Uri WebSocketHubUri => new UriBuilder(HubUri) { Scheme = BaseAddress.Scheme == "https" ? "wss" : "ws" }.Uri;

    public CapturedLogs Logs { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a server; <paramref name="settings"/> override configuration keys (short deadlines, small caps),
    /// <paramref name="services"/> registers services before the chat server's and <paramref name="servicesAfter"/> after them.
    /// </summary>
    public static async Task<SecureServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string url = "http://127.0.0.1:0",
        string environment = "Testing",
        Action<IServiceCollection>? servicesAfter = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls(url);
        builder.Configuration.AddInMemoryCollection(UserSettings.Value);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SignalRSecure:Tickets:IssuerKey"] = IssuerKey,

            // The server's appsettings.json keeps the per-connection events (Debug) out of production logs; tests read them.
            ["Logging:LogLevel:SignalRSecure"] = "Trace",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        var logs = new CapturedLogs();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddFilter((_, _) => true);
        builder.Logging.AddProvider(logs);
        services?.Invoke(builder.Services);
        builder.AddChatServer();
        servicesAfter?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapChatServer();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SecureServer(app, logs, new Uri(address));
    }

    public AuthClient CreateAuthClient(string? origin = null, System.Net.IPAddress? from = null) => new(BaseAddress, origin, from);

    /// <summary>Signs <paramref name="user"/> in and returns a fresh ticket.</summary>
    public async Task<string> GetTicketAsync(TestUser user, string? origin = null, System.Net.IPAddress? from = null)
    {
        using var client = CreateAuthClient(origin, from);
        await client.LoginAsync(user);
        return (await client.GetTicketAsync()).Ticket;
    }

    public T GetRequiredService<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }
}
