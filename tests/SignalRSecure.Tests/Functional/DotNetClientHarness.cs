using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using SignalRSecure.Client;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>Builds real <see cref="SecureHubClient"/>s against a <see cref="SecureServer"/>.</summary>
internal static class DotNetClientHarness
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Options for <paramref name="server"/> that retry quickly, so a reconnect test does not idle.</summary>
    public static SecureHubClientOptions Options(SecureServer server) => new()
    {
        ServerUrl = server.BaseAddress,
        ReconnectPolicy = new FixedDelayPolicy(TimeSpan.FromMilliseconds(100)),
    };

    /// <summary>A client of <paramref name="user"/> whose tickets come from a fresh login each (at most five per user and server per minute).</summary>
    public static SecureHubClient Create(SecureServer server, TestUser user) =>
        new(Options(server), _ => GetTicketAsync(server, user));

    /// <summary>
    /// A ticket asked for with the client's <c>User-Agent</c>, as <see cref="CookieTicketSource"/> asks: the server binds
    /// the ticket to it, and the client's WebSocket sends the same.
    /// </summary>
    public static async Task<string> GetTicketAsync(SecureServer server, TestUser user)
    {
        using var client = server.CreateAuthClient();
        client.Http.DefaultRequestHeaders.TryAddWithoutValidation(ClientUserAgent.HeaderName, ClientUserAgent.Value);
        await client.LoginAsync(user);
        return (await client.GetTicketAsync()).Ticket;
    }

    public static async Task<SecureHubClient> ConnectAsync(SecureServer server, TestUser user)
    {
        var client = Create(server, user);
        await client.ConnectAsync().WaitAsync(Timeout);
        return client;
    }
}

/// <summary>Retries forever after the same delay.</summary>
internal sealed class FixedDelayPolicy(TimeSpan delay) : IRetryPolicy
{
    public TimeSpan? NextRetryDelay(RetryContext retryContext) => delay;
}

/// <summary>Records what an event delivers, and lets a test await the next record that matches.</summary>
internal sealed class Recorder<T>
{
    private readonly Channel<T> _pending = Channel.CreateUnbounded<T>();
    private readonly List<T> _all = [];

    public IReadOnlyList<T> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    public void Add(T item)
    {
        lock (_all)
        {
            _all.Add(item);
        }

        _pending.Writer.TryWrite(item);
    }

    public void Handler(object? sender, T item) => Add(item);

    /// <summary>The next record (skipping those that do not match), within <paramref name="within"/> (by default <see cref="DotNetClientHarness.Timeout"/>).</summary>
    public async Task<T> NextAsync(Func<T, bool>? match = null, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? DotNetClientHarness.Timeout);
        while (true)
        {
            var item = await _pending.Reader.ReadAsync(timeout.Token);
            if (match is null || match(item))
            {
                return item;
            }
        }
    }
}
