using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Functional;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

public sealed class DotNetClientReauthenticationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly ObservedTimeProvider _time = new();
    private readonly FakeHub _hub;

    public DotNetClientReauthenticationTests() => _hub = new FakeHub(_time);

    [Theory]
    [InlineData(3600, 60, 3540)]
    [InlineData(90, 60, 60)]
    [InlineData(3, 60, 2)]
    [InlineData(0, 60, 0.5)]
    [InlineData(-30, 60, 0.5)]
    public void DelayUntilRenewal_ForRemainingSession_RenewsAheadOfTheEnd(double remainingSeconds, double renewBeforeSeconds, double expectedSeconds)
    {
        var delay = ReauthenticationSchedule.DelayUntilRenewal(TimeSpan.FromSeconds(remainingSeconds), TimeSpan.FromSeconds(renewBeforeSeconds));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    [Fact]
    public async Task Renewal_WhenDue_RedeemsFreshTicketOnSameConnection()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var renewed = new Recorder<ReauthenticateResult>();
        client.Reauthenticated += renewed.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        var link = await _hub.Opened.NextAsync();

        // Act: just before the renewal is due, then past it.
        _time.Advance(TimeSpan.FromMinutes(59) - TimeSpan.FromSeconds(1));
        var early = link.Invocations.All.Count(i => i.Method == nameof(IChatHub.Reauthenticate));
        _time.Advance(TimeSpan.FromSeconds(1));
        var renewal = await link.Invocations.NextAsync(i => i.Method == nameof(IChatHub.Reauthenticate));
        var result = await renewed.NextAsync();

        // Assert
        Assert.Equal(0, early);
        Assert.Equal("ticket-2", renewal.Argument);
        Assert.Equal(_time.GetUtcNow() + FakeHub.SessionLifetime, result.ExpiresAt);
        Assert.Equal(result.ExpiresAt, client.SessionExpiresAt);
        Assert.Single(_hub.Opened.All);
        Assert.Equal(SecureHubState.Authenticated, client.State);
    }

    [Fact]
    public async Task Renewal_AfterSuccess_SchedulesTheNextFromTheNewExpiry()
    {
        await using var client = _hub.CreateClient();
        await client.ConnectAsync().WaitAsync(Timeout);
        var link = await _hub.Opened.NextAsync();
        _time.Advance(TimeSpan.FromMinutes(59));
        await link.Invocations.NextAsync(i => i.Method == nameof(IChatHub.Reauthenticate));
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromMinutes(59));
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromMinutes(59));

        _time.Advance(TimeSpan.FromMinutes(59) - TimeSpan.FromSeconds(1));
        var early = link.Invocations.All.Count(i => i.Method == nameof(IChatHub.Reauthenticate));
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = await link.Invocations.NextAsync(i => i.Method == nameof(IChatHub.Reauthenticate));

        Assert.Equal(1, early);
        Assert.Equal("ticket-3", second.Argument);
    }

    [Fact]
    public async Task Renewal_WhenTicketProviderFails_RetriesWhileTheSessionLasts()
    {
        // Arrange: the second ticket request (the first renewal) fails.
        var requests = 0;
        await using var client = _hub.CreateClient(ct => Interlocked.Increment(ref requests) == 2
            ? Task.FromException<string>(new HttpRequestException("auth server unavailable"))
            : _hub.IssueTicketAsync(ct));
        await client.ConnectAsync().WaitAsync(Timeout);
        var link = await _hub.Opened.NextAsync();

        // Act: the renewal at one minute left fails; a third of the remaining minute later it is tried again.
        _time.Advance(TimeSpan.FromMinutes(59));
        await _time.TimersCreated.NextAsync(due => due == TimeSpan.FromSeconds(40));
        var failedAttempts = link.Invocations.All.Count(i => i.Method == nameof(IChatHub.Reauthenticate));
        _time.Advance(TimeSpan.FromSeconds(40));
        var retry = await link.Invocations.NextAsync(i => i.Method == nameof(IChatHub.Reauthenticate));

        // Assert
        Assert.Equal(0, failedAttempts);
        Assert.Equal(3, requests);
        Assert.Equal("ticket-2", retry.Argument);
        Assert.Single(_hub.Opened.All);
    }

    [Fact]
    public async Task Renewal_OfAConnectionThatEnded_IsNotAttempted()
    {
        // Arrange
        await using var client = _hub.CreateClient();
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        var first = await _hub.Opened.NextAsync();

        // Act: the first connection drops half-way; its successor starts a session of its own.
        _time.Advance(TimeSpan.FromMinutes(30));
        first.Drop(new IOException("network down"));
        var second = await _hub.Opened.NextAsync();
        await states.NextAsync(s => s.State == SecureHubState.Reconnecting);
        await states.NextAsync(s => s.State == SecureHubState.Authenticated);
        _time.Advance(TimeSpan.FromMinutes(30));

        // Assert: the first connection's renewal came due but did not run; the second's is 29 minutes away.
        Assert.DoesNotContain(first.Invocations.All, i => i.Method == nameof(IChatHub.Reauthenticate));
        Assert.DoesNotContain(second.Invocations.All, i => i.Method == nameof(IChatHub.Reauthenticate));
        Assert.True(first.IsDisposed);
    }

    [Fact]
    public async Task Renewal_RefusedByServer_ClosesWithAuthenticationFailedAndStops()
    {
        // Arrange: the server refuses the renewal ticket and closes, as it does.
        await using var client = _hub.CreateClient();
        var states = new Recorder<SecureHubStateChange>();
        client.StateChanged += states.Handler;
        await client.ConnectAsync().WaitAsync(Timeout);
        var link = await _hub.Opened.NextAsync();
        _hub.Answer = (l, invocation) =>
        {
            if (invocation.Method != nameof(IChatHub.Reauthenticate))
            {
                return _hub.DefaultAnswerAsync(l, invocation);
            }

            l.Drop(FakeHub.CloseError(CloseReasons.AuthenticationFailed));
            return Task.FromException<object?>(FakeHub.HubError(invocation.Method, HubErrors.AuthenticationFailed));
        };

        // Act
        _time.Advance(TimeSpan.FromMinutes(59));
        var closed = await states.NextAsync(s => s.State == SecureHubState.Closed);

        // Assert
        Assert.Equal(CloseReasons.AuthenticationFailed, closed.Reason);
        Assert.IsType<AuthenticationFailedException>(closed.Error);
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.EchoAsync("x").WaitAsync(Timeout));
        Assert.Single(_hub.Opened.All);
    }
}
