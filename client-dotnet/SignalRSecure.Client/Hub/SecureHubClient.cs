using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// A client of the SignalRSecure chat hub. <see cref="ConnectAsync"/> connects and authenticates with a ticket from the
/// <see cref="TicketProvider"/>; the client then renews the session with a fresh ticket before it ends, and after a
/// transport drop or a retryable close it reconnects, authenticates again and rejoins its groups before any other call
/// goes out. A terminal close reason stops it for good.
/// </summary>
/// <remarks>
/// Calls made while the client is connecting or reconnecting wait until a connection has authenticated (use the
/// cancellation token to bound the wait). A call in flight when the connection closes fails with
/// <see cref="SecureHubClosedException"/>: the server may or may not have run it. A client connects once; after it has
/// closed, create a new one.
/// </remarks>
public sealed class SecureHubClient : IAsyncDisposable
{
    private readonly SecureHubClientOptions _options;
    private readonly TicketProvider _tickets;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HubLinkFactory _linkFactory;
    private readonly IRetryPolicy _reconnectPolicy;
    private readonly EventRelay _relay;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();

    // Held while the groups change: by a join or leave from its send to its bookkeeping, and by a reconnect from the
    // rejoin until the new connection is published, so that the rejoined set is exactly the set callers were told of.
    private readonly SemaphoreSlim _membership = new(1, 1);
    private readonly HashSet<string> _joinedGroups = new(StringComparer.Ordinal);
    private readonly MessageSequencer _sequencer = new();

    // Held while a message is let through the sequencer and raised: a live message must not overtake recovered ones.
    private readonly Lock _delivery = new();

    // Completed with the authenticated session callers may use, or with null once the client has closed; replaced by a
    // pending one whenever that session ends.
    private TaskCompletionSource<HubSession?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HubSession? _current;
    private AuthenticateResult? _authentication;
    private SecureHubState _state;
    private SecureHubClosedException? _closedError;
    private Task _supervision = Task.CompletedTask;

    /// <summary>Creates a client; nothing happens until <see cref="ConnectAsync"/>.</summary>
    /// <param name="options">Where to connect and how to keep the connection alive.</param>
    /// <param name="ticketProvider">Gets a fresh ticket for every connection and every renewal.</param>
    /// <param name="timeProvider">The clock of renewals, reconnect delays and attempt timeouts. The default is the system clock.</param>
    /// <param name="loggerFactory">Where the client and its SignalR connections log. The default logs nothing.</param>
    public SecureHubClient(
        SecureHubClientOptions options,
        TicketProvider ticketProvider,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
        : this(options, ticketProvider, timeProvider, loggerFactory, linkFactory: null)
    {
    }

    internal SecureHubClient(
        SecureHubClientOptions options,
        TicketProvider ticketProvider,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory,
        HubLinkFactory? linkFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ticketProvider);
        options.Validate();
        _options = options;
        _tickets = ticketProvider;
        _time = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<SecureHubClient>();
        _linkFactory = linkFactory ?? HubConnectionLink.Factory(options, loggerFactory);
        _reconnectPolicy = options.ReconnectPolicy ?? DefaultReconnectPolicy.Instance;
        _relay = new EventRelay(this);
    }

    /// <summary>
    /// A broadcast or a message to a joined group arrived. Each message with an id (<see cref="ChatMessage.Id"/>) is raised
    /// once, in id order within its group: after a reconnect the messages missed meanwhile come first (recovered
    /// automatically for every group, and the broadcast channel, that delivered a message before), then the live ones.
    /// Runs on the connection's receive loop or the reconnect loop: do not block.
    /// </summary>
    public event EventHandler<ChatMessage>? MessageReceived;

    /// <summary>
    /// A reconnect could not recover every message of a group (or of the broadcast channel) that was sent while the
    /// client was away: some may be missing. Raised after the messages it did recover.
    /// </summary>
    public event EventHandler<HistoryGap>? HistoryGapDetected;

    /// <summary>A user joined a group this client has joined.</summary>
    public event EventHandler<GroupPresence>? UserJoined;

    /// <summary>
    /// A user left a group this client has joined (the user's last connection in it left or closed). When the user
    /// is this client's own, the server took the group away (a newer ticket no longer allows it): the client has
    /// already dropped it from <see cref="JoinedGroups"/>.
    /// </summary>
    public event EventHandler<GroupPresence>? UserLeft;

    /// <summary><see cref="State"/> changed. Raised in order, one at a time.</summary>
    public event EventHandler<SecureHubStateChange>? StateChanged;

    /// <summary>The session was extended with a fresh ticket, on the same connection.</summary>
    public event EventHandler<ReauthenticateResult>? Reauthenticated;

    /// <summary>Where the client stands.</summary>
    public SecureHubState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>The user of the latest successful authentication, or null before the first.</summary>
    public string? User
    {
        get
        {
            lock (_lock)
            {
                return _authentication?.User;
            }
        }
    }

    /// <summary>The groups, or group patterns such as <c>team-*</c>, the user may join, as of the latest authentication.</summary>
    public IReadOnlyList<string> AllowedGroups
    {
        get
        {
            lock (_lock)
            {
                return _authentication?.Groups ?? [];
            }
        }
    }

    /// <summary>When the current connection's session ends unless renewed, or null while there is no authenticated connection.</summary>
    public DateTimeOffset? SessionExpiresAt
    {
        get
        {
            lock (_lock)
            {
                return _current?.ExpiresAt;
            }
        }
    }

    /// <summary>The groups this client has joined; it rejoins them after every reconnect.</summary>
    public IReadOnlyCollection<string> JoinedGroups
    {
        get
        {
            lock (_lock)
            {
                return [.. _joinedGroups];
            }
        }
    }

    /// <summary>
    /// Opens the connection and authenticates it with a fresh ticket; from then on the client keeps it alive until it is
    /// stopped or closed with a terminal reason. Can be called once.
    /// </summary>
    /// <param name="cancellationToken">Cancels this first attempt.</param>
    /// <returns>The user, the groups the user may join and the end of the session.</returns>
    /// <exception cref="AuthenticationFailedException">The server refused the ticket.</exception>
    /// <exception cref="AuthRequestException">The ticket provider could not get a ticket.</exception>
    /// <exception cref="TimeoutException">The attempt took longer than <see cref="SecureHubClientOptions.AttemptTimeout"/>.</exception>
    /// <exception cref="InvalidOperationException">The client was already started.</exception>
    public Task<AuthenticateResult> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var connected = new TaskCompletionSource<AuthenticateResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_state != SecureHubState.Disconnected)
            {
                return Task.FromException<AuthenticateResult>(
                    new InvalidOperationException("The client was already started; create a new client to connect again."));
            }

            _state = SecureHubState.Connecting;
            _supervision = RunAsync(connected, cancellationToken);
        }

        return connected.Task;
    }

    /// <summary>Returns <paramref name="text"/> from the server.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>The same text.</returns>
    /// <exception cref="HubErrorException">The server refused it (<c>invalid message</c>, <c>message too long</c>, <c>rate limited</c>).</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task<string> EchoAsync(string text, CancellationToken cancellationToken = default) =>
        CallAsync<string>(nameof(IChatHub.Echo), [text], cancellationToken);

    /// <summary>Sends <paramref name="text"/> to every authenticated user, this one included.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>A task that completes when the server has sent it.</returns>
    /// <exception cref="HubErrorException">The server refused it.</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task BroadcastAsync(string text, CancellationToken cancellationToken = default) =>
        CallAsync<object?>(nameof(IChatHub.Broadcast), [text], cancellationToken);

    /// <summary>Joins <paramref name="group"/>; the client rejoins it after every reconnect until it leaves.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>A task that completes when the client is a member.</returns>
    /// <exception cref="HubErrorException"><c>forbidden</c>, <c>invalid group</c>, <c>too many groups</c> or <c>rate limited</c>.</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task JoinGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return CallAsync<object?>(nameof(IChatHub.JoinGroup), [group], cancellationToken, group);
    }

    /// <summary>Leaves <paramref name="group"/>.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>A task that completes when the client has left.</returns>
    /// <exception cref="HubErrorException"><c>not a member</c>, <c>invalid group</c> or <c>rate limited</c>.</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task LeaveGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return CallAsync<object?>(nameof(IChatHub.LeaveGroup), [group], cancellationToken, group);
    }

    /// <summary>Sends <paramref name="text"/> to the members of <paramref name="group"/>, which this client has joined.</summary>
    /// <param name="group">The group.</param>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>A task that completes when the server has sent it.</returns>
    /// <exception cref="HubErrorException"><c>not a member</c>, <c>invalid group</c>, <c>invalid message</c>, <c>message too long</c> or <c>rate limited</c>.</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task SendToGroupAsync(string group, string text, CancellationToken cancellationToken = default) =>
        CallAsync<object?>(nameof(IChatHub.SendToGroup), [group, text], cancellationToken);

    /// <summary>Lists the users online in <paramref name="group"/>, which this client has joined.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>The user names.</returns>
    /// <exception cref="HubErrorException"><c>not a member</c>, <c>invalid group</c> or <c>rate limited</c>.</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task<IReadOnlyList<string>> GetGroupMembersAsync(string group, CancellationToken cancellationToken = default) =>
        CallAsync<IReadOnlyList<string>>(nameof(IChatHub.GetGroupMembers), [group], cancellationToken);

    /// <summary>
    /// Reads the recent messages of <paramref name="group"/>, which this client has joined, or of the broadcast channel
    /// when it is null: the newest older than <paramref name="beforeId"/> (all when null), oldest first.
    /// </summary>
    /// <param name="group">The group, or null for the broadcast channel.</param>
    /// <param name="beforeId">The id of the oldest message already shown, to page back; null for the newest.</param>
    /// <param name="limit">The most messages to return; null for the server's default (50).</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a connection.</param>
    /// <returns>The messages, oldest first.</returns>
    /// <exception cref="HubErrorException"><c>not a member</c>, <c>invalid message</c> or <c>temporarily unavailable</c>.</exception>
    /// <exception cref="SecureHubClosedException">The connection closed before the answer, or the client has closed.</exception>
    public Task<IReadOnlyList<ChatMessage>> GetHistoryAsync(string? group = null, string? beforeId = null, int? limit = null, CancellationToken cancellationToken = default) =>
        CallAsync<IReadOnlyList<ChatMessage>>(nameof(IChatHub.GetHistory), [group, beforeId, limit], cancellationToken);

    /// <summary>Closes the connection and stops reconnecting; waiting and later calls fail with <see cref="SecureHubClosedException"/>.</summary>
    /// <param name="cancellationToken">Stops waiting for the connection to close.</param>
    /// <returns>A task that completes when the client has closed.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task supervision;
        lock (_lock)
        {
            supervision = _supervision;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);

        // A client that never started closes here; ConnectAsync can no longer start it.
        Finish(Stopped());
        await supervision.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the client, as <see cref="StopAsync"/>.</summary>
    /// <returns>A task that completes when the client has closed.</returns>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static SecureHubClosedException Stopped() => new StoppedByCallerException();

    private static string? CloseReasonOf(Exception? error) =>
        error is not null && CloseReasons.TryParse(error.Message, out var reason) ? reason : null;

    private static SecureHubClosedException ClosedFor(string? reason, Exception? error) => reason switch
    {
        CloseReasons.AuthenticationFailed => new AuthenticationFailedException(error),
        null => new SecureHubClosedException("The connection to the hub was lost; the client is reconnecting.", null, isTerminal: false, error),
        _ => new SecureHubClosedException(
            CloseReasons.IsTerminal(reason)
                ? $"The server closed the connection ({reason})."
                : $"The server closed the connection ({reason}); the client is reconnecting.",
            reason,
            CloseReasons.IsTerminal(reason),
            error),
    };

    /// <summary>Connects, then keeps the client connected until it stops; the only place the state moves after connecting.</summary>
    private async Task RunAsync(TaskCompletionSource<AuthenticateResult> connected, CancellationToken connectCancellation)
    {
        // Leaves ConnectAsync's lock before anything else runs.
        await Task.Yield();
        HubSession? session = null;
        SecureHubClosedException? final = null;
        Exception? firstAttemptError = null;
        try
        {
            RaiseStateChanged(new SecureHubStateChange(SecureHubState.Connecting));
            SecureHubClientLog.Connecting(_logger, _options.HubUri);
            using (var first = CancellationTokenSource.CreateLinkedTokenSource(connectCancellation, _stopping.Token))
            {
                try
                {
                    session = await EstablishAsync(first.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    firstAttemptError = ex;
                    throw;
                }
            }

            connected.TrySetResult(session.Authentication);
            while (true)
            {
                var closeError = await session.Link.Closed.WaitAsync(_stopping.Token).ConfigureAwait(false);
                await EndAsync(session).ConfigureAwait(false);
                session = null;

                var reason = CloseReasonOf(closeError);
                SecureHubClientLog.ConnectionClosed(_logger, reason ?? "no reason", closeError);
                if (CloseReasons.IsTerminal(reason))
                {
                    final = ClosedFor(reason, closeError);
                    return;
                }

                SetState(new SecureHubStateChange(SecureHubState.Reconnecting, reason, closeError));
                session = await ReconnectAsync(reason, closeError).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            final = Stopped();
        }
        catch (Exception ex)
        {
            final = ex as SecureHubClosedException ?? new SecureHubClosedException("The client stopped: " + ex.Message, null, isTerminal: true, ex);
        }
        finally
        {
            if (session is not null)
            {
                await EndAsync(session).ConfigureAwait(false);
            }

            Finish(final ?? Stopped(), fromSupervision: true);

            // Completed after the state is Closed, so that a caller of ConnectAsync sees the state it failed with.
            switch (firstAttemptError)
            {
                case null:
                    connected.TrySetException(final ?? Stopped());
                    break;
                case OperationCanceledException canceled:
                    connected.TrySetCanceled(canceled.CancellationToken);
                    break;
                default:
                    connected.TrySetException(firstAttemptError);
                    break;
            }
        }
    }

    /// <summary>Reconnects as the policy says until a connection is authenticated and published.</summary>
    /// <exception cref="SecureHubClosedException">A terminal failure, or the policy gave up.</exception>
    private async Task<HubSession> ReconnectAsync(string? closeReason, Exception? closeError)
    {
        var started = _time.GetTimestamp();
        Exception retryReason = closeError ?? ClosedFor(closeReason, null);
        for (var attempt = 0; ; attempt++)
        {
            var delay = _reconnectPolicy.NextRetryDelay(new RetryContext
            {
                PreviousRetryCount = attempt,
                ElapsedTime = _time.GetElapsedTime(started),
                RetryReason = retryReason,
            });
            if (delay is null)
            {
                throw new SecureHubClosedException($"The client gave up reconnecting after {attempt} attempts.", closeReason, isTerminal: true, retryReason);
            }

            if (retryReason is AuthRequestException { RetryAfter: { } retryAfter } && retryAfter > delay)
            {
                delay = retryAfter;
            }

            SecureHubClientLog.Reconnecting(_logger, attempt + 1, delay.Value);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay.Value, _time, _stopping.Token).ConfigureAwait(false);
            }

            try
            {
                return await EstablishAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested && IsRetryable(ex))
            {
                SecureHubClientLog.ReconnectAttemptFailed(_logger, attempt + 1, ex);
                retryReason = ex;
            }
        }
    }

    private static bool IsRetryable(Exception error) => error switch
    {
        SecureHubClosedException closed => !closed.IsTerminal,
        AuthRequestException request => request.IsRetryable,
        _ => true,
    };

    /// <summary>
    /// One attempt: a fresh ticket, a new connection, Authenticate as its first invocation, the groups rejoined, and the
    /// session published for callers. Nothing else can go out on the connection before Authenticate: callers only ever
    /// see published sessions.
    /// </summary>
    private async Task<HubSession> EstablishAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        IHubLink? link = null;
        HubSession? session = null;
        try
        {
            // The ticket comes first: the server's authentication deadline starts when the connection opens. WaitAsync
            // bounds a provider that ignores its token.
            var ticket = await _tickets(token).WaitAsync(token).ConfigureAwait(false);
            // Live messages of the groups to recover wait from now on: they must not overtake the recovered ones.
            _sequencer.HoldAll();
            link = _linkFactory(_relay);
            await link.StartAsync(token).ConfigureAwait(false);
            AuthenticateResult authentication;
            try
            {
                authentication = await link.InvokeAsync<AuthenticateResult>(nameof(ISecureHub.Authenticate), [ticket], token).ConfigureAwait(false);
            }
            catch (HubException ex)
            {
                // A refused ticket or a terminal close reason stops the client; the rest are retried.
                throw Translate(nameof(ISecureHub.Authenticate), ex);
            }

            session = new HubSession(link, authentication);
            await RejoinAndPublishAsync(session, token).ConfigureAwait(false);
            return session;
        }
        catch (Exception ex)
        {
            session?.End();
            if (link is not null)
            {
                await DisposeLinkAsync(link).ConfigureAwait(false);
            }

            if (ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Connecting and authenticating took longer than {_options.AttemptTimeout}.", ex);
            }

            throw;
        }
    }

    private async Task RejoinAndPublishAsync(HubSession session, CancellationToken cancellationToken)
    {
        await _membership.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var lastIds = _sequencer.Recoverable().ToDictionary(c => c.Group ?? string.Empty, c => c.LastId, StringComparer.Ordinal);
            foreach (var group in JoinedGroups)
            {
                try
                {
                    if (lastIds.TryGetValue(group, out var lastId))
                    {
                        await RecoverAsync(session, group, lastId, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await session.Link.InvokeAsync<object?>(nameof(IChatHub.JoinGroup), [group], cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (HubException ex) when (HubErrors.TryParse(ex.Message, out var error) && error != HubErrors.Unavailable)
                {
                    // The fresh ticket may no longer allow this group; the other groups still count. A server that is
                    // only temporarily unavailable fails the whole attempt instead, which is retried with the group kept,
                    // as the broadcast channel's recovery does.
                    lock (_lock)
                    {
                        _joinedGroups.Remove(group);
                    }

                    _sequencer.Forget(group);
                    SecureHubClientLog.GroupRejoinRefused(_logger, group, error);
                }
            }

            if (lastIds.TryGetValue(string.Empty, out var lastBroadcastId))
            {
                await RecoverAsync(session, null, lastBroadcastId, cancellationToken).ConfigureAwait(false);
            }

            lock (_delivery)
            {
                foreach (var message in _sequencer.ReleaseHeld())
                {
                    Raise(MessageReceived, message, nameof(MessageReceived));
                }
            }

            lock (_lock)
            {
                if (_stopping.IsCancellationRequested)
                {
                    throw new OperationCanceledException(_stopping.Token);
                }

                _current = session;
                _authentication = session.Authentication;
                _state = SecureHubState.Authenticated;
                _ready.TrySetResult(session);
            }
        }
        finally
        {
            _membership.Release();
        }

        SecureHubClientLog.Authenticated(_logger, session.Authentication.User, session.Authentication.ExpiresAt);
        ScheduleRenewal(session);
        RaiseStateChanged(new SecureHubStateChange(SecureHubState.Authenticated));
    }

    /// <summary>
    /// Rejoins a group (or, for null, only reads the broadcast channel) with the last id delivered from it, then delivers
    /// the missed messages and the live ones held meanwhile, and reports a gap the server could not fill.
    /// </summary>
    private async Task RecoverAsync(HubSession session, string? group, string lastId, CancellationToken cancellationToken)
    {
        var recovery = await session.Link.InvokeAsync<GroupRecovery>(nameof(IChatHub.RejoinGroup), [group, lastId], cancellationToken).ConfigureAwait(false);
        lock (_delivery)
        {
            foreach (var message in _sequencer.EndRecovery(group, recovery.Messages))
            {
                Raise(MessageReceived, message, nameof(MessageReceived));
            }
        }

        if (!recovery.Recovered)
        {
            Raise(HistoryGapDetected, new HistoryGap(group), nameof(HistoryGapDetected));
        }
    }

    /// <summary>Takes the session away from callers, stops its renewals and closes its connection.</summary>
    private async Task EndAsync(HubSession session)
    {
        lock (_lock)
        {
            if (_current == session)
            {
                _current = null;
                _ready = new TaskCompletionSource<HubSession?>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        session.End();
        await DisposeLinkAsync(session.Link).ConfigureAwait(false);
    }

    private async Task DisposeLinkAsync(IHubLink link)
    {
        try
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The connection is being dropped anyway; its error must not stop the reconnect loop.
            SecureHubClientLog.ConnectionClosed(_logger, "error while closing", ex);
        }
    }

    /// <summary>Closes the client for good, once; a client that is running closes only when its supervision says so.</summary>
    private void Finish(SecureHubClosedException final, bool fromSupervision = false)
    {
        lock (_lock)
        {
            if (_state == SecureHubState.Closed || (!fromSupervision && _state != SecureHubState.Disconnected))
            {
                return;
            }

            _state = SecureHubState.Closed;
            _closedError = final;
            _current = null;
            _ready.TrySetResult(null);
        }

        var stopped = final is StoppedByCallerException;
        SecureHubClientLog.Closed(_logger, final.Reason ?? (stopped ? "stopped" : "no reason"), stopped ? null : final);
        RaiseStateChanged(new SecureHubStateChange(SecureHubState.Closed, final.Reason, stopped ? null : final));
    }

    private void SetState(SecureHubStateChange change)
    {
        lock (_lock)
        {
            _state = change.State;
        }

        RaiseStateChanged(change);
    }

    private void ScheduleRenewal(HubSession session)
    {
        var remaining = session.ExpiresAt - _time.GetUtcNow();
        session.ScheduleRenewal(_time, ReauthenticationSchedule.DelayUntilRenewal(remaining, _options.ReauthenticateBefore), RenewAsync);
    }

    /// <summary>
    /// Extends the session on its own connection with a fresh ticket. A refused ticket makes the server close the
    /// connection (authentication failed, terminal), which <see cref="RunAsync"/> sees; any other failure is retried
    /// while the session lasts, and once it is over the server closes with a retryable reason and the client reconnects.
    /// </summary>
    private async Task RenewAsync(HubSession session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.AttemptTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(session.EndedToken, timeout.Token);
            var ticket = await _tickets(linked.Token).WaitAsync(linked.Token).ConfigureAwait(false);
            var result = await session.Link.InvokeAsync<ReauthenticateResult>(nameof(ISecureHub.Reauthenticate), [ticket], linked.Token).ConfigureAwait(false);
            session.ExpiresAt = result.ExpiresAt;
            SecureHubClientLog.Reauthenticated(_logger, result.ExpiresAt);
            Raise(Reauthenticated, result, nameof(Reauthenticated));
        }
        catch (Exception ex)
        {
            if (session.IsEnded)
            {
                // The connection is gone; its successor has a schedule of its own.
                return;
            }

            SecureHubClientLog.ReauthenticationFailed(_logger, ex);
        }

        ScheduleRenewal(session);
    }

    private async Task<HubSession> WaitForSessionAsync(CancellationToken cancellationToken)
    {
        Task<HubSession?> ready;
        lock (_lock)
        {
            if (_state == SecureHubState.Disconnected)
            {
                throw new InvalidOperationException($"Call {nameof(ConnectAsync)} first.");
            }

            ready = _ready.Task;
        }

        var session = await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (session is not null)
        {
            return session;
        }

        SecureHubClosedException closed;
        lock (_lock)
        {
            closed = _closedError!;
        }

        // A fresh exception per caller: one instance thrown on many threads would mix their stack traces.
        throw closed is AuthenticationFailedException
            ? new AuthenticationFailedException(closed.InnerException)
            : new SecureHubClosedException(closed.Message, closed.Reason, closed.IsTerminal, closed.InnerException);
    }

    /// <summary>
    /// Invokes on the authenticated connection, waiting for one if there is none. <paramref name="group"/> is set for a
    /// join or leave, whose outcome updates the set of groups to rejoin.
    /// </summary>
    private async Task<TResult> CallAsync<TResult>(string methodName, object?[] arguments, CancellationToken cancellationToken, string? group = null)
    {
        while (true)
        {
            var session = await WaitForSessionAsync(cancellationToken).ConfigureAwait(false);
            if (group is not null)
            {
                await _membership.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                bool isCurrent;
                lock (_lock)
                {
                    isCurrent = _current == session;
                }

                if (isCurrent)
                {
                    var result = await session.Link.InvokeAsync<TResult>(methodName, arguments, cancellationToken).ConfigureAwait(false);
                    RecordMembership(methodName, group, joined: methodName == nameof(IChatHub.JoinGroup));
                    return result;
                }
            }
            catch (HubLinkInactiveException)
            {
                // Nothing was sent: wait for the next authenticated connection below.
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var translated = Translate(methodName, ex);
                if (methodName == nameof(IChatHub.LeaveGroup)
                    && translated is SecureHubClosedException or HubErrorException { Error: HubErrors.NotAMember })
                {
                    // Either way the group is not joined on any connection to come.
                    RecordMembership(methodName, group, joined: false);
                }

                throw translated;
            }
            finally
            {
                if (group is not null)
                {
                    _membership.Release();
                }
            }

            await session.Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void RecordMembership(string methodName, string? group, bool joined)
    {
        if (group is null || methodName is not (nameof(IChatHub.JoinGroup) or nameof(IChatHub.LeaveGroup)))
        {
            return;
        }

        lock (_lock)
        {
            if (joined)
            {
                _joinedGroups.Add(group);
            }
            else
            {
                _joinedGroups.Remove(group);
                _sequencer.Forget(group);
            }
        }
    }

    /// <summary>Maps what SignalR's client threw to this client's typed errors.</summary>
    private Exception Translate(string methodName, Exception error)
    {
        if (error is HubException && HubErrors.TryParse(error.Message, out var hubError))
        {
            return hubError switch
            {
                HubErrors.AuthenticationFailed => new AuthenticationFailedException(error),

                // Authenticate answers it only as the server closes the connection with the same, retryable, reason.
                HubErrors.Unavailable when methodName == nameof(ISecureHub.Authenticate) => ClosedFor(CloseReasons.Unavailable, error),
                _ => new HubErrorException(methodName, hubError, error),
            };
        }

        if (error is HubException && CloseReasons.TryParse(error.Message, out var reason))
        {
            return ClosedFor(reason, error);
        }

        if (error is HubException)
        {
            return new HubErrorException(methodName, null, error);
        }

        return _stopping.IsCancellationRequested
            ? new SecureHubClosedException($"The client was stopped before {methodName} completed.", null, isTerminal: true, error)
            : new SecureHubClosedException($"The connection was lost before {methodName} completed; the client is reconnecting.", null, isTerminal: false, error);
    }

    private void RaiseStateChanged(SecureHubStateChange change) => Raise(StateChanged, change, nameof(StateChanged));

    private void Raise<TEventArgs>(EventHandler<TEventArgs>? handler, TEventArgs args, string eventName)
    {
        try
        {
            handler?.Invoke(this, args);
        }
        catch (Exception ex)
        {
            // A throwing handler must not take the connection's receive loop or the reconnect loop down with it.
            SecureHubClientLog.EventHandlerFailed(_logger, eventName, ex);
        }
    }

    /// <summary>How the client closes when <see cref="StopAsync"/> stops it: not an error, so no state change carries it.</summary>
    private sealed class StoppedByCallerException() : SecureHubClosedException("The client was stopped.", reason: null, isTerminal: true);

    /// <summary>Receives the hub's callbacks and raises the client's events.</summary>
    private sealed class EventRelay(SecureHubClient client) : IChatClient
    {
        public Task ReceiveMessage(ChatMessage message)
        {
            lock (client._delivery)
            {
                foreach (var deliver in client._sequencer.OnLive(message))
                {
                    client.Raise(client.MessageReceived, deliver, nameof(MessageReceived));
                }
            }

            return Task.CompletedTask;
        }

        public Task UserJoined(GroupPresence presence)
        {
            client.Raise(client.UserJoined, presence, nameof(UserJoined));
            return Task.CompletedTask;
        }

        public Task UserLeft(GroupPresence presence)
        {
            lock (client._lock)
            {
                // The server tells a connection it left only when the user has no connection left in the group.
                if (string.Equals(presence.User, client._authentication?.User, StringComparison.Ordinal))
                {
                    client._joinedGroups.Remove(presence.Group);
                    client._sequencer.Forget(presence.Group);
                }
            }

            client.Raise(client.UserLeft, presence, nameof(UserLeft));
            return Task.CompletedTask;
        }
    }
}
