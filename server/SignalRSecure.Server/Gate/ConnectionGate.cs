using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Protection;

namespace SignalRSecure.Server.Gate;

/// <summary>Where a connection stands in the gate.</summary>
internal enum GateState
{
    /// <summary>Connected; the SignalR handshake has not completed.</summary>
    Handshaking,

    /// <summary>Handshake done; only pings, a close and one Authenticate may come.</summary>
    AwaitingAuthentication,

    /// <summary>The Authenticate frame went to the hub; nothing after it is read until it settles.</summary>
    Authenticating,

    /// <summary>Authenticated: everything passes to SignalR.</summary>
    Authenticated,

    /// <summary>Closing: the close message is sent (or about to be) and nothing more is read.</summary>
    Closing,
}

/// <summary>
/// The gate's state for one hub connection: its authentication state, its one deadline (authentication, then
/// session expiry), its identity and rate limits, and the way to close it with a reason.
/// Stored as a feature of the connection so that the reader, the hub filter and the hub share it.
/// </summary>
internal sealed class ConnectionGate : ISecureConnection, IDisposable
{
    /// <summary>
    /// The SignalR group every authenticated connection is in, which <c>Clients.All</c> stands for. Its characters
    /// are outside those allowed in group names, so no client can join, leave or address it.
    /// </summary>
    public const string AuthenticatedGroup = "signalrsecure:authenticated";

    private readonly Lock _lock = new();
    private readonly ConnectionContext _connection;
    private readonly GateKeeper _keeper;
    private readonly Admission _admission;
    private readonly PipeReader _transportInput;
    private readonly TaskCompletionSource _authenticationSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _deadline;
    private HubConnectionContext? _hub;
    private AuthenticatedUser? _identity;
    private volatile GateState _state;
    private string? _closeReason;
    private int _closeMessageSent;
    private bool _authenticateRunning;

    public ConnectionGate(ConnectionContext connection, GateKeeper keeper, Admission admission, IPAddress? remoteIp, string? origin)
    {
        _connection = connection;
        _keeper = keeper;
        _admission = admission;
        _transportInput = connection.Transport.Input;
        RemoteIp = remoteIp;
        ClientIp = ClientAddress.Normalize(remoteIp);
        Origin = origin;
        var options = keeper.Options;
        Invocations = new TokenBucket(keeper.Time, options.InvocationsPerSecond, options.InvocationBurst);
        RateLimitStrikes = new TokenBucket(keeper.Time, perSecond: 1, options.RateLimitStrikesBeforeClose);
        _deadline = keeper.Time.CreateTimer(static state => ((ConnectionGate)state!).OnDeadline(), this, options.AuthenticationTimeout, Timeout.InfiniteTimeSpan);
    }

    public string ConnectionId => _connection.ConnectionId;

    public GateKeeper Keeper => _keeper;

    public IPAddress? RemoteIp { get; }

    /// <summary>The remote address as tickets are bound to it.</summary>
    public string? ClientIp { get; }

    /// <summary>The normalized <c>Origin</c> of the request that opened the connection, or null.</summary>
    public string? Origin { get; }

    public GateState State => _state;

    public bool IsAuthenticated => State == GateState.Authenticated;

    /// <summary>The authenticated user; null before authentication.</summary>
    public AuthenticatedUser? Identity => _identity;

    public string User => _identity?.Name ?? string.Empty;

    /// <summary>Fires when the connection closes.</summary>
    public CancellationToken ConnectionAborted => _connection.ConnectionClosed;

    public DateTimeOffset SessionExpiresAt { get; private set; }

    /// <summary>The reason the gate closed the connection, or null when the client left.</summary>
    public string? CloseReason => _closeReason;

    public TokenBucket Invocations { get; }

    /// <summary>Rejected invocations; when it runs dry the connection is closed.</summary>
    public TokenBucket RateLimitStrikes { get; }

    /// <summary>Completes when the Authenticate in flight has succeeded or the connection is closing.</summary>
    public Task AuthenticationSettled => _authenticationSettled.Task;

    public static ConnectionGate? From(HubCallerContext context) => context.Features.Get<ConnectionGate>();

    /// <summary>Called once the SignalR handshake is done: identity from the transport (cookies, Windows auth) is dropped.</summary>
    public void Attach(HubConnectionContext hub)
    {
        lock (_lock)
        {
            _hub = hub;
            hub.UserIdentifier = null;
            SetUser(new ClaimsPrincipal(new ClaimsIdentity()));
            if (_state == GateState.Handshaking)
            {
                _state = GateState.AwaitingAuthentication;
            }
        }
    }

    /// <summary>Lets one Authenticate frame through; false if one already went or the connection is not waiting for one.</summary>
    public bool TryBeginAuthentication()
    {
        lock (_lock)
        {
            if (_state != GateState.AwaitingAuthentication)
            {
                return false;
            }

            _state = GateState.Authenticating;
            return true;
        }
    }

    /// <summary>Records that the hub's Authenticate method is running, so that the deadline lets it finish.</summary>
    public void AuthenticateStarted()
    {
        lock (_lock)
        {
            _authenticateRunning = true;
        }
    }

    /// <summary>Marks the connection authenticated as <paramref name="identity"/> until <paramref name="sessionExpiresAt"/>.</summary>
    public bool CompleteAuthentication(AuthenticatedUser identity, DateTimeOffset sessionExpiresAt)
    {
        lock (_lock)
        {
            if (_state != GateState.Authenticating)
            {
                return false;
            }

            _identity = identity;
            SessionExpiresAt = sessionExpiresAt;
            _hub!.UserIdentifier = identity.Name;
            SetUser(identity.ToPrincipal());
            _deadline.Change(sessionExpiresAt - _keeper.Time.GetUtcNow(), Timeout.InfiniteTimeSpan);
            _state = GateState.Authenticated;
        }

        _admission.MarkAuthenticated();
        _authenticationSettled.TrySetResult();
        return true;
    }

    /// <summary>Moves the end of the session to <paramref name="sessionExpiresAt"/> and takes the groups of the fresh ticket.</summary>
    public void ExtendSession(AuthenticatedUser identity, DateTimeOffset sessionExpiresAt)
    {
        lock (_lock)
        {
            _identity = identity;
            SessionExpiresAt = sessionExpiresAt;
            SetUser(identity.ToPrincipal());
            _deadline.Change(sessionExpiresAt - _keeper.Time.GetUtcNow(), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Closes the connection once the reply to the invocation in progress has been written: the reader sends the
    /// close message on SignalR's next read, which comes only after that reply.
    /// </summary>
    public void CloseAfterReply(string reason)
    {
        lock (_lock)
        {
            if (!BeginClosing(reason))
            {
                return;
            }
        }

        _authenticationSettled.TrySetResult();
    }

    /// <inheritdoc />
    public void Close(string reason)
    {
        HubConnectionContext? hub;
        lock (_lock)
        {
            if (!BeginClosing(reason))
            {
                return;
            }

            hub = _hub;
        }

        _authenticationSettled.TrySetResult();
        if (hub is null)
        {
            // Still in the handshake: there is no SignalR protocol yet to carry a reason.
            _connection.Abort(new ConnectionAbortedException(reason));
            return;
        }

        _ = CloseNowAsync();
    }

    /// <summary>Writes the close message with <see cref="CloseReason"/>, once.</summary>
    public async ValueTask SendCloseMessageAsync()
    {
        var hub = _hub;
        if (hub is null || _closeReason is null || Interlocked.Exchange(ref _closeMessageSent, 1) != 0)
        {
            return;
        }

        await hub.WriteAsync(new CloseMessage(_closeReason, allowReconnect: false));
    }

    /// <summary>
    /// Closes a connection that sent something other than an allowed frame before authenticating; the reader sends
    /// the close message itself, since SignalR never sees the offending frame.
    /// </summary>
    public void RefuseBeforeAuthentication(string violation, string closeReason)
    {
        lock (_lock)
        {
            BeginClosing(closeReason);
        }

        _keeper.OnPreAuthenticationViolation(this, violation, closeReason);
    }

    /// <summary>Aborts a connection that broke the protocol before the handshake completed.</summary>
    public void AbortHandshake(string violation)
    {
        lock (_lock)
        {
            BeginClosing(CloseReasons.AuthenticationRequired);
        }

        _keeper.OnPreAuthenticationViolation(this, violation, CloseReasons.AuthenticationRequired);
        _connection.Abort(new ConnectionAbortedException(CloseReasons.AuthenticationRequired));
    }

    public void Dispose()
    {
        _deadline.Dispose();
        _authenticationSettled.TrySetResult();
        _keeper.OnConnectionClosed(this);
    }

    private async Task CloseNowAsync()
    {
        await SendCloseMessageAsync();

        // Wakes SignalR's read loop, which ends the connection the way it always does (OnDisconnectedAsync runs).
        _transportInput.CancelPendingRead();
    }

    private bool BeginClosing(string reason)
    {
        if (_state == GateState.Closing)
        {
            return false;
        }

        _closeReason = reason;
        _state = GateState.Closing;
        return true;
    }

    private void OnDeadline()
    {
        string reason;
        lock (_lock)
        {
            switch (_state)
            {
                case GateState.Handshaking or GateState.AwaitingAuthentication:
                case GateState.Authenticating when !_authenticateRunning:
                    // The second case: an Authenticate frame went to SignalR but the method never ran (SignalR
                    // refused to bind it); without this the held connection would wait forever.
                    reason = CloseReasons.AuthenticationTimeout;
                    break;
                case GateState.Authenticated:
                    // Timers round their due time and may fire a little early; a session extended while this
                    // callback was on its way has moved too. Either way the end is still ahead: wait for it.
                    var remaining = SessionExpiresAt - _keeper.Time.GetUtcNow();
                    if (remaining > TimeSpan.Zero)
                    {
                        _deadline.Change(remaining, Timeout.InfiniteTimeSpan);
                        return;
                    }

                    reason = CloseReasons.SessionExpired;
                    break;
                default:
                    // An Authenticate that started in time decides the connection's fate itself.
                    return;
            }
        }

        _keeper.OnDeadline(this, reason);
        Close(reason);
    }

    private void SetUser(ClaimsPrincipal principal)
    {
        if (_connection.Features.Get<IConnectionUserFeature>() is { } feature)
        {
            feature.User = principal;
        }
    }
}
