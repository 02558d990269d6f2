using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>The gate's services on a manual clock, with in-memory pipes instead of a network.</summary>
internal sealed class GateTestbed : IDisposable
{
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly LoggerFactory _loggers;

    public GateTestbed(
        SecureHubOptions? options = null, ProtectionOptions? protection = null, Func<TimeProvider, ITicketStore>? store = null,
        IUserConnectionRegistry? registry = null, params IGroupRightsObserver[] observers)
    {
        Registry = registry ?? new InMemoryUserConnectionRegistry();
        _loggers = new LoggerFactory([Logs]);
        Options = options ?? new SecureHubOptions();
        var hubOptions = Microsoft.Extensions.Options.Options.Create(Options);
        var protectionOptions = Microsoft.Extensions.Options.Options.Create(protection ?? new ProtectionOptions());
        var ticketOptions = Microsoft.Extensions.Options.Options.Create(new TicketOptions());
        Store = store?.Invoke(Time) ?? new InMemoryTicketStore(Time, ticketOptions);
        Tickets = new TicketService(Store, ticketOptions, Time);
        Failures = new AuthenticationFailureLimiter(protectionOptions, Time);
        Budgets = new UserBudgets(protectionOptions, hubOptions, Time);
        Admissions = new ConnectionAdmission(protectionOptions);
        Keeper = new GateKeeper(
            hubOptions, Time, Tickets, new TicketRedeemer(Failures, Store), Failures, Registry, Budgets, observers,
            new SecureHubMetrics(MeterFactory), protectionOptions, _loggers.CreateLogger<GateKeeper>());
    }

    /// <summary>The factory of this testbed's meters, to tell them apart from other tests' meters of the same name.</summary>
    public IMeterFactory MeterFactory => _meters.GetRequiredService<IMeterFactory>();

    public ManualTimeProvider Time { get; } = new();

    public SecureHubOptions Options { get; }

    public TicketService Tickets { get; }

    public AuthenticationFailureLimiter Failures { get; }

    public ITicketStore Store { get; }

    public UserBudgets Budgets { get; }

    /// <summary>The per-IP connection caps the testbed's connections are admitted under.</summary>
    public ConnectionAdmission Admissions { get; }

    public IUserConnectionRegistry Registry { get; }

    /// <summary>What the gate keeper logged.</summary>
    public CapturedLogs Logs { get; } = new();

    public GateKeeper Keeper { get; }

    /// <summary>
    /// A gate on an in-memory connection, past the SignalR handshake unless told otherwise, in the hub protocol
    /// <paramref name="protocol"/> (JSON by default).
    /// </summary>
    public TestConnection Open(bool handshakeDone = true, string clientIp = "127.0.0.1", IHubProtocol? protocol = null)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var context = new DefaultConnectionContext(Guid.NewGuid().ToString("N"), new Duplex(toServer.Reader, toClient.Writer), new Duplex(toClient.Reader, toServer.Writer));
        var gate = Keeper.Open(context, Admissions.TryAdmit(System.Net.IPAddress.Parse(clientIp))!, System.Net.IPAddress.Parse(clientIp), origin: null);
        var hub = new HubConnectionContext(context, new HubConnectionContextOptions { KeepAliveInterval = TimeSpan.FromMinutes(5), ClientTimeoutInterval = TimeSpan.FromMinutes(5) }, NullLoggerFactory.Instance)
        {
            Protocol = protocol ?? new JsonHubProtocol(),
        };
        if (handshakeDone)
        {
            gate.Attach(hub);
        }

        return new TestConnection(context, hub, gate, toClient.Reader);
    }

    public async Task<string> IssueAsync(string user = "alice", string[]? groups = null, string clientIp = "127.0.0.1") =>
        (await Tickets.IssueAsync(new TicketGrant(user, groups ?? ["general", "ops"], clientIp, null, null))).Ticket;

    /// <summary>Authenticates <paramref name="connection"/> the way the reader and the hub do together.</summary>
    public async Task AuthenticateAsync(TestConnection connection, string user = "alice", string[]? groups = null)
    {
        Assert.True(connection.Gate.TryBeginAuthentication());
        await Keeper.AuthenticateAsync(connection.Gate, await IssueAsync(user, groups));
    }

    /// <summary>Closes <paramref name="connection"/> the way the transport does when it ends.</summary>
    public static Task DisconnectAsync(TestConnection connection) => connection.Gate.DisposeAsync().AsTask();

    public void Dispose()
    {
        Admissions.Dispose();
        _meters.Dispose();
        _loggers.Dispose();
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}

/// <summary>One in-memory connection: its gate, its SignalR context and what the server wrote to the client.</summary>
internal sealed record TestConnection(DefaultConnectionContext Context, HubConnectionContext Hub, ConnectionGate Gate, PipeReader ToClient)
{
    /// <summary>Everything the server has written so far (waits for at least one write).</summary>
    public async Task<string> ReadWrittenAsync()
    {
        var result = await ToClient.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var text = Encoding.UTF8.GetString(result.Buffer);
        ToClient.AdvanceTo(result.Buffer.End);
        return text;
    }

    /// <summary>Whether the server has written anything yet, without waiting.</summary>
    public bool HasWritten() => ToClient.TryRead(out var result) && Consume(result);

    private bool Consume(ReadResult result)
    {
        var any = !result.Buffer.IsEmpty;
        ToClient.AdvanceTo(result.Buffer.Start);
        return any;
    }
}
