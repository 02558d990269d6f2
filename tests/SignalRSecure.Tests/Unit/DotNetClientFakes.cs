using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Time.Testing;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Functional;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>One invocation a fake link received.</summary>
internal sealed record FakeInvocation(string Method, object?[] Arguments)
{
    public object? Argument => Arguments.Length > 0 ? Arguments[0] : null;
}

/// <summary>
/// Stands in for the server behind <see cref="SecureHubClient"/>'s links: every link the client opens is recorded,
/// and every invocation is answered by <see cref="Answer"/>, which tests replace to script failures or hold calls.
/// </summary>
internal sealed class FakeHub
{
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(1);

    private readonly TimeProvider _time;
    private int _tickets;

    public FakeHub(TimeProvider time)
    {
        _time = time;
        Answer = DefaultAnswerAsync;
    }

    public Recorder<FakeHubLink> Opened { get; } = new();

    /// <summary>Answers an invocation; the default plays a well-behaved server.</summary>
    public Func<FakeHubLink, FakeInvocation, Task<object?>> Answer { get; set; }

    /// <summary>Makes <see cref="StartAsync"/> of the next links fail, or hold, as the test says.</summary>
    public Func<FakeHubLink, CancellationToken, Task> Start { get; set; } = (_, _) => Task.CompletedTask;

    /// <summary>The tickets handed out, in order.</summary>
    public Recorder<string> TicketsIssued { get; } = new();

    public HubLinkFactory Factory => callbacks =>
    {
        var link = new FakeHubLink(this, callbacks);
        Opened.Add(link);
        return link;
    };

    /// <summary>A ticket provider that hands out <c>ticket-1</c>, <c>ticket-2</c>, …</summary>
    public Task<string> IssueTicketAsync(CancellationToken cancellationToken)
    {
        var ticket = $"ticket-{Interlocked.Increment(ref _tickets)}";
        TicketsIssued.Add(ticket);
        return Task.FromResult(ticket);
    }

    public SecureHubClient CreateClient(TicketProvider? tickets = null, SecureHubClientOptions? options = null) => new(
        options ?? new SecureHubClientOptions { ServerUrl = new Uri("http://127.0.0.1:9"), ReconnectPolicy = new FixedDelayPolicy(TimeSpan.Zero) },
        tickets ?? IssueTicketAsync,
        _time,
        loggerFactory: null,
        Factory);

    /// <summary>The error SignalR's client throws for a hub error.</summary>
    public static HubException HubError(string method, string error) =>
        new($"An unexpected error occurred invoking '{method}' on the server. HubException: {error}");

    /// <summary>The error SignalR's client closes with when the server closes with a reason.</summary>
    public static HubException CloseError(string reason) =>
        new($"The server closed the connection with the following error: {reason}");

    public Task<object?> DefaultAnswerAsync(FakeHubLink link, FakeInvocation invocation) => Task.FromResult<object?>(invocation.Method switch
    {
        nameof(IChatHub.Authenticate) => new AuthenticateResult("alice", ["general", "ops"], _time.GetUtcNow() + SessionLifetime),
        nameof(IChatHub.Reauthenticate) => new ReauthenticateResult(_time.GetUtcNow() + SessionLifetime),
        nameof(IChatHub.Echo) => invocation.Argument,
        nameof(IChatHub.GetGroupMembers) => new List<string> { "alice" },
        _ => null,
    });
}

/// <summary>A link that behaves as <see cref="HubConnectionLink"/> does: refuses calls once closed and fails calls in flight when it closes.</summary>
internal sealed class FakeHubLink(FakeHub hub, IChatClient callbacks) : IHubLink
{
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _started;

    public IChatClient Callbacks => callbacks;

    public Recorder<FakeInvocation> Invocations { get; } = new();

    public bool IsDisposed { get; private set; }

    public Task<Exception?> Closed => _closed.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await hub.Start(this, cancellationToken);
        _started = true;
    }

    public async Task<TResult> InvokeAsync<TResult>(string methodName, object?[] arguments, CancellationToken cancellationToken)
    {
        if (!_started || _closed.Task.IsCompleted)
        {
            throw new HubLinkInactiveException();
        }

        var invocation = new FakeInvocation(methodName, arguments);
        Invocations.Add(invocation);
        var answer = hub.Answer(this, invocation);
        var first = await Task.WhenAny(answer, _closed.Task).WaitAsync(cancellationToken);
        if (first != answer)
        {
            throw await _closed.Task ?? new TaskCanceledException("Invocation canceled due to the underlying connection being closed.");
        }

        return (TResult)(await answer)!;
    }

    /// <summary>The server (or the network) ends the connection with <paramref name="error"/>.</summary>
    public void Drop(Exception? error) => _closed.TrySetResult(error);

    public ValueTask DisposeAsync()
    {
        IsDisposed = true;
        _closed.TrySetResult(null);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The fake clock of the client tests: it starts at a random date (code that reads the real clock instead fails
/// loudly) and records the due time of every timer created on it, so that a test can wait until the client has armed a
/// timer before it moves the clock past it.
/// </summary>
internal sealed class ObservedTimeProvider() : FakeTimeProvider(RandomStart())
{
    public Recorder<TimeSpan> TimersCreated { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        TimersCreated.Add(dueTime);
        return timer;
    }

    private static DateTimeOffset RandomStart() =>
        new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(Random.Shared.Next(0, 5_000_000));
}
