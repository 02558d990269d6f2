using System.IO.Pipelines;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Gate;

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
/// Stored as a feature of the connection so that the reader, the hub filter and the hub share it; it is also the
/// connection's <see cref="IConnectionUserFeature"/>, so <c>Context.User</c> is only ever the ticket's user.
/// </summary>
/// <remarks>
/// An idle authenticated connection keeps this object, its reader and the small <see cref="GatePrincipal"/> SignalR
/// asks for at the handshake: its deadline is a place in <see cref="GateDeadlines"/>' lists (no timer of its own), the
/// claims are built only when hub code reads them, and the task that holds reads during Authenticate exists only
/// while one is held.
/// </remarks>
internal sealed class ConnectionGate : ISecureConnection, IConnectionUserFeature, IAsyncDisposable
{
    private readonly ConnectionContext _connection;
    private readonly GateKeeper _keeper;
    private readonly Admission _admission;
    private TaskCompletionSource? _authenticationSettled;
    private TaskCompletionSource? _replyWritten;
    private bool _replyPending;
    private HubConnectionContext? _hub;
    private IGateObserver? _observer;
    private TaskCompletionSource? _managerJoined;
    private bool _managerJoinDone;
    private bool _managerLeft;
    private AuthenticatedUser? _identity;
    private GatePrincipal? _user;
    private ClaimsPrincipal? _currentPrincipal;
    private UserBudget? _userBudget;
    private long _groupsIssuedAt;
    private TokenBucket _invocations;
    private TokenBucket _messages;
    private TokenBucket _rateLimitStrikes;
    private volatile GateState _state;
    private string? _closeReason;
    private Task? _closeMessage;
    private bool _authenticateRunning;
    private volatile bool _disposed;

    // The gate locks on itself, not on an object of its own: one more object, for the life of every connection, is
    // what the memory budget per connection cannot spare. Nothing outside the gate locks on it (it is internal; the
    // one public face, IConnectionUserFeature, is not something code locks on).

    // The upgrade request's User-Agent until the first ticket redemption hashes it, then its hash (kept, because
    // Reauthenticate redeems again): a reference to a string the request already holds, then 43 characters.
    private string? _userAgent;
    private bool _userAgentHashed;

    public ConnectionGate(
        ConnectionContext connection, GateKeeper keeper, Admission admission, IPAddress? remoteIp, string? origin, string? userAgent = null)
    {
        _connection = connection;
        _keeper = keeper;
        _admission = admission;
        RemoteIp = remoteIp;
        Origin = origin;
        _userAgent = userAgent;
        var options = keeper.Options;
        var now = keeper.Time.GetTimestamp();
        _invocations = new TokenBucket(options.InvocationBurst, now);
        _messages = new TokenBucket(options.MessageBurst, now);
        _rateLimitStrikes = new TokenBucket(options.RateLimitStrikesBeforeClose, now);
        keeper.Deadlines.Schedule(this, options.AuthenticationTimeout);

        // Replaces the transport's user feature: whatever identity the upgrade request carried (cookies, Windows
        // authentication) is never the connection's user. It is also how the gate is found (From): a feature of its
        // own would add an entry to every connection's feature collection.
        connection.Features.Set<IConnectionUserFeature>(this);
    }

    public string ConnectionId => _connection.ConnectionId;

    public GateKeeper Keeper => _keeper;

    /// <summary>The connection this gate guards.</summary>
    public ConnectionContext Connection => _connection;

    public IPAddress? RemoteIp { get; }

    /// <summary>The remote address as tickets are bound to it (computed when a ticket is redeemed, not kept).</summary>
    public string? ClientIp => ClientAddress.Normalize(RemoteIp);

    /// <summary>The normalized <c>Origin</c> of the request that opened the connection, or null.</summary>
    public string? Origin { get; }

    /// <summary>
    /// The hash of the <c>User-Agent</c> of the request that opened the connection, as tickets are bound to it
    /// (<see cref="Tickets.UserAgentHash.Of"/>); computed at the first redemption.
    /// </summary>
    public string UserAgentHash
    {
        get
        {
            lock (this)
            {
                if (!_userAgentHashed)
                {
                    _userAgent = Tickets.UserAgentHash.Shared(_userAgent);
                    _userAgentHashed = true;
                }

                return _userAgent!;
            }
        }
    }

    public GateState State => _state;

    /// <summary>Whether the connection has ended and the gate has let go of it.</summary>
    public bool IsDisposed => _disposed;

    public bool IsAuthenticated => State == GateState.Authenticated;

    /// <summary>The authenticated user; null before authentication.</summary>
    public AuthenticatedUser? Identity => Volatile.Read(ref _identity);

    /// <inheritdoc />
    public IReadOnlyList<string> Groups => Identity?.Groups ?? [];

    public string User => _identity?.Name ?? string.Empty;

    /// <summary>Fires when the connection closes.</summary>
    public CancellationToken ConnectionAborted => _connection.ConnectionClosed;

    public DateTimeOffset SessionExpiresAt { get; private set; }

    /// <summary>The hub protocol the handshake chose; <see cref="GateProtocol.Json"/> until the handshake is done.</summary>
    public GateProtocol Protocol { get; private set; }

    /// <summary>The reason the gate closed the connection, or null when the client left.</summary>
    public string? CloseReason => _closeReason;

    /// <summary>
    /// Completes when the Authenticate in flight has succeeded or the connection is closing; already complete when
    /// no Authenticate is in flight.
    /// </summary>
    public Task AuthenticationSettled
    {
        get
        {
            lock (this)
            {
                return _state == GateState.Authenticating
                    ? (_authenticationSettled ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task
                    : Task.CompletedTask;
            }
        }
    }

    /// <summary>
    /// The principal hub code sees as <c>Context.User</c> (a <see cref="GatePrincipal"/>). Setting it is ignored:
    /// the user of a gated connection comes from its ticket and nothing else.
    /// </summary>
    ClaimsPrincipal? IConnectionUserFeature.User
    {
        get => _user ??= new GatePrincipal(this);
        set
        {
        }
    }

    /// <summary>The ticket's user as a principal (built on first use), or an anonymous one before authentication.</summary>
    public ClaimsPrincipal CurrentPrincipal
    {
        get
        {
            lock (this)
            {
                return _currentPrincipal ??= _identity?.ToPrincipal() ?? new ClaimsPrincipal(new ClaimsIdentity());
            }
        }
    }

    public static ConnectionGate? From(HubCallerContext context) => From(context.Features);

    /// <summary>The gate of the connection whose features these are, or null when it is not gated.</summary>
    public static ConnectionGate? From(IFeatureCollection features) => features.Get<IConnectionUserFeature>() as ConnectionGate;

    /// <summary>
    /// Called once the SignalR handshake is done: a user id derived from the transport is dropped, the protocol the
    /// handshake chose is noted, and <paramref name="observer"/> hears when the connection authenticates.
    /// </summary>
    public void Attach(HubConnectionContext hub, IGateObserver? observer = null)
    {
        lock (this)
        {
            _hub = hub;

            // By type, not by name: another protocol registered under a known name would be read differently.
            Protocol = hub.Protocol switch
            {
                JsonHubProtocol => GateProtocol.Json,
                MessagePackHubProtocol => GateProtocol.MessagePack,
                _ => GateProtocol.Unreadable,
            };
            _observer = observer;
            hub.UserIdentifier = null;
            if (_state == GateState.Handshaking)
            {
                _state = GateState.AwaitingAuthentication;
            }
        }
    }

    /// <summary>Takes one token from the invocation rate limit (<see cref="SecureHubOptions.InvocationsPerSecond"/>).</summary>
    public bool TryTakeInvocation()
    {
        var options = _keeper.Options;
        lock (this)
        {
            return _invocations.TryTake(_keeper.Time, options.InvocationsPerSecond, options.InvocationBurst);
        }
    }

    /// <summary>Takes <paramref name="count"/> tokens from the message rate limit (<see cref="SecureHubOptions.MessagesPerSecond"/>).</summary>
    public bool TryTakeMessages(int count)
    {
        var options = _keeper.Options;
        lock (this)
        {
            return _messages.TryTake(_keeper.Time, options.MessagesPerSecond, options.MessageBurst, count);
        }
    }

    /// <summary>
    /// Takes one token from the invocation budget the user's connections share
    /// (<see cref="SecureHubOptions.UserInvocationsPerSecond"/>), on every node when the budget is shared.
    /// </summary>
    public ValueTask<bool> TryTakeUserInvocationAsync() =>
        Volatile.Read(ref _userBudget) is { } budget ? _keeper.Budgets.TryTakeInvocationAsync(budget) : ValueTask.FromResult(true);

    /// <summary>Hands over the user's budget this connection holds, once (the gate gives it back when the connection closes).</summary>
    public UserBudget? TakeUserBudget() => Interlocked.Exchange(ref _userBudget, null);

    /// <summary>Records a rejected invocation; false once <see cref="SecureHubOptions.RateLimitStrikesBeforeClose"/> ran out.</summary>
    public bool TryTakeRateLimitStrike()
    {
        lock (this)
        {
            return _rateLimitStrikes.TryTake(_keeper.Time, perSecond: 1, _keeper.Options.RateLimitStrikesBeforeClose);
        }
    }

    /// <summary>Lets one Authenticate frame through; false if one already went or the connection is not waiting for one.</summary>
    public bool TryBeginAuthentication()
    {
        lock (this)
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
        lock (this)
        {
            _authenticateRunning = true;
        }
    }

    /// <summary>
    /// Marks the connection authenticated as <paramref name="identity"/>, from a ticket issued at
    /// <paramref name="issuedAt"/>, until <paramref name="sessionExpiresAt"/>; it holds <paramref name="budget"/>
    /// from then on. False when the connection is closing or gone (the caller keeps the budget).
    /// </summary>
    public bool CompleteAuthentication(AuthenticatedUser identity, DateTimeOffset issuedAt, UserBudget budget, DateTimeOffset sessionExpiresAt)
    {
        lock (this)
        {
            if (_state != GateState.Authenticating || _disposed)
            {
                return false;
            }

            _identity = identity;
            _groupsIssuedAt = issuedAt.UtcTicks;
            _userBudget = budget;
            _currentPrincipal = null;
            SessionExpiresAt = sessionExpiresAt;
            _hub!.UserIdentifier = identity.Name;
            _keeper.Deadlines.Schedule(this, sessionExpiresAt - _keeper.Time.GetUtcNow());
            _state = GateState.Authenticated;
        }

        _admission.MarkAuthenticated();
        ReleaseHeldReads();
        return true;
    }

    /// <summary>
    /// Hands the authenticated connection to the hub's lifetime manager (the observer given to <see cref="Attach"/>),
    /// which until then had nothing to deliver to; awaited before Authenticate answers, so the client's first
    /// message after its answer can already come from any node.
    /// </summary>
    public async Task JoinLifetimeManagerAsync()
    {
        TaskCompletionSource joined;
        HubConnectionContext hub;
        IGateObserver observer;
        lock (this)
        {
            // The connection may have left the manager while Authenticate finished: joining now would leave it
            // registered (and subscribed, on a scale-out manager) forever.
            if (_managerLeft || _managerJoined is not null || _managerJoinDone || _hub is null || _observer is null)
            {
                return;
            }

            _managerJoined = joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
            hub = _hub;
            observer = _observer;
        }

        try
        {
            await observer.OnAuthenticatedAsync(this, hub);
            lock (this)
            {
                // A join that is done needs no task kept for the connection's life: the leave sees the flag.
                _managerJoinDone = true;
                _managerJoined = null;
            }

            joined.TrySetResult();
        }
        catch (Exception ex)
        {
            joined.TrySetException(ex);
            throw;
        }
    }

    /// <summary>
    /// Records that the connection left the hub's lifetime manager. Returns the join in progress or done, which the
    /// manager awaits before undoing it, or null when the connection never joined (nothing to undo).
    /// </summary>
    public Task? LeaveLifetimeManager()
    {
        lock (this)
        {
            _managerLeft = true;
            return _managerJoinDone ? Task.CompletedTask : _managerJoined?.Task;
        }
    }

    /// <summary>Moves the end of the session to <paramref name="sessionExpiresAt"/>.</summary>
    public void ExtendSession(DateTimeOffset sessionExpiresAt)
    {
        lock (this)
        {
            SessionExpiresAt = sessionExpiresAt;

            // A connection that is gone has dropped its deadline; scheduling it again would keep it until the session ends.
            if (!_disposed)
            {
                _keeper.Deadlines.Schedule(this, sessionExpiresAt - _keeper.Time.GetUtcNow());
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask UpdateGroupsAsync(IReadOnlyList<string> groups, DateTimeOffset issuedAt, CancellationToken cancellationToken = default)
    {
        lock (this)
        {
            // Two Reauthenticates of the user may fan out at once: whatever order they arrive in, every connection
            // ends with the newest ticket's groups.
            if (_identity is not { } identity || issuedAt.UtcTicks < _groupsIssuedAt)
            {
                return;
            }

            _groupsIssuedAt = issuedAt.UtcTicks;
            if (identity.Groups.All(groups.Contains) && groups.All(identity.Groups.Contains))
            {
                return;
            }

            Volatile.Write(ref _identity, identity with { Groups = [.. groups] });
            _currentPrincipal = null;
        }

        await _keeper.OnGroupsChangedAsync(this).AsTask().WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Closes the connection once the reply to the invocation in progress has been written: SignalR writes the reply
    /// after the hub method returns and releases the hub only then, so the reader sends the close message when
    /// <see cref="InvocationEnded"/> wakes it, and the client reads the reply first.
    /// </summary>
    public void CloseAfterReply(string reason)
    {
        lock (this)
        {
            // Stryker disable once Assignment: equivalent for ^=, _replyPending is true only once Closing, when BeginClosing returns false (x ^ false is x | false); the &= it also skips is killed by the CloseAfterReply tests
            _replyPending |= BeginClosing(reason);
        }
    }

    /// <summary>
    /// Completes once the reply of the call that asked for the close (<see cref="CloseAfterReply"/>) has been written;
    /// already complete when no such reply is pending. The close message waits for it, whichever way the reader
    /// comes to send it.
    /// </summary>
    public Task ReplyWritten
    {
        get
        {
            lock (this)
            {
                return _replyPending && !_disposed
                    ? (_replyWritten ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task
                    : Task.CompletedTask;
            }
        }
    }

    /// <summary>Called when SignalR releases the hub of an invocation on this connection, its reply written.</summary>
    public void InvocationEnded()
    {
        if (_state != GateState.Closing)
        {
            return;
        }

        TaskCompletionSource? replyWritten;
        lock (this)
        {
            _replyPending = false;
            replyWritten = _replyWritten;
        }

        replyWritten?.TrySetResult();
        ReleaseHeldReads();

        // An authenticated connection's reader waits for the client's next frame: wake it to send the close now.
        _connection.Transport.Input.CancelPendingRead();
    }

    /// <inheritdoc />
    public void Close(string reason)
    {
        HubConnectionContext? hub;
        lock (this)
        {
            if (!BeginClosing(reason))
            {
                return;
            }

            hub = _hub;
        }

        ReleaseHeldReads();
        if (hub is null)
        {
            // Still in the handshake: there is no SignalR protocol yet to carry a reason.
            _connection.Abort(new ConnectionAbortedException(reason));
            return;
        }

        _ = CloseNowAsync();
    }

    /// <summary>
    /// Writes the close message with <see cref="CloseReason"/> and the reconnect flag of the close-reason table, once;
    /// every caller waits for that one write. Nothing written to the connection after it reaches the client.
    /// </summary>
    public Task SendCloseMessageAsync()
    {
        var hub = _hub;
        var reason = _closeReason;
        if (hub is null || reason is null)
        {
            return Task.CompletedTask;
        }

        if (Volatile.Read(ref _closeMessage) is { } sending)
        {
            return sending;
        }

        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref _closeMessage, sent.Task, null) ?? WriteCloseMessageAsync(hub, reason, sent);
    }

    /// <summary>
    /// Closes a connection that sent something other than an allowed frame before authenticating; the reader sends
    /// the close message itself, since SignalR never sees the offending frame.
    /// </summary>
    public void RefuseBeforeAuthentication(string violation, string closeReason)
    {
        lock (this)
        {
            BeginClosing(closeReason);
        }

        _keeper.OnPreAuthenticationViolation(this, violation, closeReason);
    }

    /// <summary>
    /// Closes an authenticated connection whose input broke a limit (<c>message too large</c>, <c>rate limited</c>);
    /// the reader sends the close message itself, since SignalR never sees the offending bytes.
    /// </summary>
    public void RefuseAfterAuthentication(string closeReason)
    {
        lock (this)
        {
            if (!BeginClosing(closeReason))
            {
                return;
            }
        }

        _keeper.OnMessagesRefused(this, closeReason);
    }

    /// <summary>Aborts a connection that broke the protocol before the handshake completed.</summary>
    public void AbortHandshake(string violation)
    {
        lock (this)
        {
            BeginClosing(CloseReasons.AuthenticationRequired);
        }

        _keeper.OnPreAuthenticationViolation(this, violation, CloseReasons.AuthenticationRequired);
        _connection.Abort(new ConnectionAbortedException(CloseReasons.AuthenticationRequired));
    }

    /// <summary>Lets go of the connection once it has ended: its deadline, its held reads, its budget and its registry entry.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (this)
        {
            // An Authenticate still running must not complete on a connection that is gone.
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _keeper.Deadlines.Cancel(this);
        Volatile.Read(ref _replyWritten)?.TrySetResult();
        ReleaseHeldReads();

        // The connection's places under the caps come back as it closes, not when the request that carried it unwinds:
        // a client that reconnects right after its close is counted without its old connection.
        _admission.Dispose();
        await _keeper.OnConnectionClosedAsync(this);
    }

    // The task is created under the lock only while Authenticating and never replaced, so reading it after the
    // state has moved on sees every reader that waits on it.
    private void ReleaseHeldReads() => Volatile.Read(ref _authenticationSettled)?.TrySetResult();

    private async Task WriteCloseMessageAsync(HubConnectionContext hub, string reason, TaskCompletionSource sent)
    {
        try
        {
            await hub.WriteAsync(new CloseMessage(reason, allowReconnect: !CloseReasons.IsTerminal(reason)));
        }
        finally
        {
            // SignalR closes every connection with a message of its own; the client must see only the gate's.
            (_connection.Transport as GatedTransport)?.DiscardOutput();
            sent.SetResult();
        }
    }

    private async Task CloseNowAsync()
    {
        await SendCloseMessageAsync();

        // Wakes SignalR's read loop, which ends the connection the way it always does (OnDisconnectedAsync runs).
        _connection.Transport.Input.CancelPendingRead();
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

    /// <summary>The next gate due in the same tick of <see cref="GateDeadlines"/>; guarded by its lock.</summary>
    internal ConnectionGate? DeadlineNext { get; set; }

    /// <summary>The previous gate due in the same tick of <see cref="GateDeadlines"/>; guarded by its lock.</summary>
    internal ConnectionGate? DeadlinePrevious { get; set; }

    /// <summary>The tick of <see cref="GateDeadlines"/> the deadline is due in, 0 when none is pending; guarded by its lock.</summary>
    internal long DeadlineTick { get; set; }

    /// <summary>Called by <see cref="GateDeadlines"/> when the connection's deadline (authentication or session) is due.</summary>
    internal void OnDeadline()
    {
        string reason;
        lock (this)
        {
            if (_disposed)
            {
                return;
            }

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
                        _keeper.Deadlines.Schedule(this, remaining);
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
}
