using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>
/// One authenticated connection: its link, when its session ends, and the timer that renews it. Ends once, when the
/// link closes or the client stops; a renewal never outlives it.
/// </summary>
internal sealed class HubSession
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _endedSource = new();
    private ITimer? _renewal;
    private DateTimeOffset _expiresAt;
    private bool _isEnded;

    public HubSession(IHubLink link, AuthenticateResult authentication)
    {
        Link = link;
        Authentication = authentication;
        _expiresAt = authentication.ExpiresAt;
    }

    public IHubLink Link { get; }

    public AuthenticateResult Authentication { get; }

    /// <summary>When the server ends the session unless it is renewed.</summary>
    public DateTimeOffset ExpiresAt
    {
        get
        {
            lock (_lock)
            {
                return _expiresAt;
            }
        }

        set
        {
            lock (_lock)
            {
                _expiresAt = value;
            }
        }
    }

    /// <summary>Completes when the session has ended.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Canceled when the session ends.</summary>
    public CancellationToken EndedToken => _endedSource.Token;

    public bool IsEnded
    {
        get
        {
            lock (_lock)
            {
                return _isEnded;
            }
        }
    }

    /// <summary>Calls <paramref name="renew"/> after <paramref name="delay"/>, unless the session has ended by then.</summary>
    public void ScheduleRenewal(TimeProvider time, TimeSpan delay, Func<HubSession, Task> renew)
    {
        lock (_lock)
        {
            if (_isEnded)
            {
                return;
            }

            _renewal?.Dispose();
            _renewal = time.CreateTimer(
                static state =>
                {
                    var (session, renew) = ((HubSession, Func<HubSession, Task>))state!;
                    _ = renew(session);
                },
                (this, renew),
                delay,
                Timeout.InfiniteTimeSpan);
        }
    }

    public void End()
    {
        lock (_lock)
        {
            if (_isEnded)
            {
                return;
            }

            _isEnded = true;
            _renewal?.Dispose();
        }

        _endedSource.Cancel();
        _ended.TrySetResult();
    }
}
