using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The authentication deadline falling due while Authenticate is still running (a slow ticket store), on the fake
/// clock: an Authenticate that started in time decides the connection's fate itself.
/// </summary>
public sealed class AuthenticateDeadlineTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly GateTestbed _testbed;
    private SlowTicketStore _store = null!;

    public AuthenticateDeadlineTests() =>
        _testbed = new GateTestbed(store: time => _store = new SlowTicketStore(new InMemoryTicketStore(time, Options.Create(new TicketOptions()))));

    [Fact]
    public async Task Deadline_WhileAuthenticateAwaitsTheStore_LetsAGoodTicketAuthenticate()
    {
        var connection = _testbed.Open();
        var ticket = await _testbed.IssueAsync();
        Assert.True(connection.Gate.TryBeginAuthentication());
        _store.Hold();
        var authenticating = _testbed.Keeper.AuthenticateAsync(connection.Gate, ticket);
        await _store.Reached.WaitAsync(Timeout);

        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout + TimeSpan.FromSeconds(1));
        var closedByTheDeadline = connection.HasWritten() || connection.Gate.CloseReason is not null;
        _store.Release();
        var result = await authenticating.WaitAsync(Timeout);

        Assert.False(closedByTheDeadline);
        Assert.Equal("alice", result.User);
        Assert.True(connection.Gate.IsAuthenticated);
        Assert.Empty(_testbed.Logs.WithEvent("AuthenticationTimedOut"));
    }

    [Fact]
    public async Task Deadline_WhileAuthenticateAwaitsTheStore_TheSessionDeadlineTakesOver()
    {
        var connection = _testbed.Open();
        var ticket = await _testbed.IssueAsync();
        Assert.True(connection.Gate.TryBeginAuthentication());
        _store.Hold();
        var authenticating = _testbed.Keeper.AuthenticateAsync(connection.Gate, ticket);
        await _store.Reached.WaitAsync(Timeout);
        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout);
        _store.Release();
        var result = await authenticating.WaitAsync(Timeout);

        _testbed.Time.Advance(result.ExpiresAt - _testbed.Time.GetUtcNow() - TimeSpan.FromMilliseconds(1));
        var closedEarly = connection.HasWritten();
        _testbed.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(closedEarly);
        Assert.Contains("\"error\":\"session expired\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_WhileAuthenticateAwaitsTheStore_ABadTicketStillFailsAndCloses()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());
        _store.Hold();
        var authenticating = _testbed.Keeper.AuthenticateAsync(connection.Gate, SecretToken.Create());
        await _store.Reached.WaitAsync(Timeout);

        _testbed.Time.Advance(_testbed.Options.AuthenticationTimeout + TimeSpan.FromSeconds(1));
        var reasonWhileRunning = connection.Gate.CloseReason;
        _store.Release();
        var error = await Assert.ThrowsAsync<HubException>(() => authenticating.WaitAsync(Timeout));

        Assert.Null(reasonWhileRunning);
        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Close_WhileAuthenticateAwaitsTheStore_AuthenticateFailsAndTheConnectionStaysUnauthenticated()
    {
        var connection = _testbed.Open();
        var ticket = await _testbed.IssueAsync();
        Assert.True(connection.Gate.TryBeginAuthentication());
        _store.Hold();
        var authenticating = _testbed.Keeper.AuthenticateAsync(connection.Gate, ticket);
        await _store.Reached.WaitAsync(Timeout);

        connection.Gate.Close(CloseReasons.Revoked);
        _store.Release();
        var error = await Assert.ThrowsAsync<HubException>(() => authenticating.WaitAsync(Timeout));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.False(connection.Gate.IsAuthenticated);
        Assert.Equal(CloseReasons.Revoked, connection.Gate.CloseReason);
        Assert.Empty(_testbed.Logs.WithEvent("Authenticated"));
    }

    public void Dispose() => _testbed.Dispose();

    /// <summary>A ticket store whose redemption waits until the test releases it.</summary>
    private sealed class SlowTicketStore(ITicketStore inner) : ITicketStore
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource? _held;

        public Task Reached => _reached.Task;

        public void Hold() => _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _held?.TrySetResult();

        public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default) => inner.AddAsync(ticket, cancellationToken);

        public async ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default)
        {
            _reached.TrySetResult();
            if (_held is { } held)
            {
                await held.Task.WaitAsync(Timeout, cancellationToken);
            }

            return await inner.TryRedeemAsync(hash, cancellationToken);
        }

        public ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default) => inner.RevokeUserAsync(user, cancellationToken);

        public ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default) => inner.RevokeSessionAsync(sessionKey, cancellationToken);
    }
}
