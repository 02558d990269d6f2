using System.Net;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

/// <summary>The failure lockout applies to every Authenticate and Reauthenticate, not only to new connections.</summary>
public sealed class LockoutAtAuthenticateTests : IDisposable
{
    private const string Attacker = "203.0.113.5";
    private readonly GateTestbed _testbed;
    private HeldTicketStore _store = null!;

    public LockoutAtAuthenticateTests() =>
        _testbed = new GateTestbed(store: time => _store = new HeldTicketStore(new InMemoryTicketStore(time, Microsoft.Extensions.Options.Options.Create(new TicketOptions()))));

    [Fact]
    public async Task Authenticate_FromALockedOutAddress_FailsAndClosesWithoutRedeemingTheTicket()
    {
        LockOut(Attacker);
        var ticket = await _testbed.IssueAsync(clientIp: Attacker);
        var connection = _testbed.Open(clientIp: Attacker);
        Assert.True(connection.Gate.TryBeginAuthentication());

        var error = await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, ticket));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.False(connection.Gate.IsAuthenticated);
        Assert.Equal(0, _store.Redemptions);
        Assert.NotNull(await _testbed.Store.TryRedeemAsync(SecretToken.Hash(ticket)));
    }

    [Fact]
    public async Task Reauthenticate_FromALockedOutAddress_FailsAndClosesWithoutRedeemingTheTicket()
    {
        var connection = _testbed.Open(clientIp: Attacker);
        Assert.True(connection.Gate.TryBeginAuthentication());
        await _testbed.Keeper.AuthenticateAsync(connection.Gate, await _testbed.IssueAsync(clientIp: Attacker));
        var redemptionsBefore = _store.Redemptions;
        LockOut(Attacker);
        var ticket = await _testbed.IssueAsync(clientIp: Attacker);

        var error = await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.ReauthenticateAsync(connection.Gate, ticket));

        Assert.Equal(HubErrors.AuthenticationFailed, error.Message);
        Assert.Equal(CloseReasons.AuthenticationFailed, connection.Gate.CloseReason);
        Assert.Equal(redemptionsBefore, _store.Redemptions);
        Assert.NotNull(await _testbed.Store.TryRedeemAsync(SecretToken.Hash(ticket)));
    }

    [Fact]
    public async Task Authenticate_RefusedForTheLockout_DoesNotExtendIt()
    {
        LockOut(Attacker);
        for (var i = 0; i < 5; i++)
        {
            var connection = _testbed.Open(clientIp: Attacker);
            Assert.True(connection.Gate.TryBeginAuthentication());
            await Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(connection.Gate, "wrong"));
            await GateTestbed.DisconnectAsync(connection);
        }

        _testbed.Time.Advance(ProtectionOptions.DefaultAuthenticationLockout);

        Assert.False(_testbed.Failures.IsLockedOut(IPAddress.Parse(Attacker), out _));
        var next = _testbed.Open(clientIp: Attacker);
        Assert.True(next.Gate.TryBeginAuthentication());
        await _testbed.Keeper.AuthenticateAsync(next.Gate, await _testbed.IssueAsync(clientIp: Attacker));
        Assert.True(next.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Authenticate_TwentyWrongTicketsAtOnce_OnlyTheThresholdIsLookedAtAndAllFail()
    {
        var connections = Enumerable.Range(0, 20).Select(_ => _testbed.Open(clientIp: Attacker)).ToList();
        _store.Hold();

        var attempts = connections.Select(c =>
        {
            Assert.True(c.Gate.TryBeginAuthentication());
            return Assert.ThrowsAsync<HubException>(() => _testbed.Keeper.AuthenticateAsync(c.Gate, Tickets.Unknown()));
        }).ToList();
        await _store.WaitForRedemptionsAsync(ProtectionOptions.DefaultAuthenticationFailuresPerIp);
        var lookedAtWhileHeld = _store.Redemptions;
        _store.Release();
        var errors = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ProtectionOptions.DefaultAuthenticationFailuresPerIp, lookedAtWhileHeld);
        Assert.Equal(ProtectionOptions.DefaultAuthenticationFailuresPerIp, _store.Redemptions);
        Assert.All(errors, e => Assert.Equal(HubErrors.AuthenticationFailed, e.Message));
        Assert.All(connections, c => Assert.Equal(CloseReasons.AuthenticationFailed, c.Gate.CloseReason));
        Assert.True(_testbed.Failures.IsLockedOut(IPAddress.Parse(Attacker), out _));
    }

    [Fact]
    public async Task Authenticate_TwentyGoodTicketsAtOnceFromOneAddress_AllSucceed()
    {
        var connections = Enumerable.Range(0, 20).Select(_ => _testbed.Open(clientIp: Attacker)).ToList();
        var tickets = await Task.WhenAll(connections.Select((_, i) => _testbed.IssueAsync($"user{i}", clientIp: Attacker)));
        _store.Hold();

        var attempts = connections.Select((c, i) =>
        {
            Assert.True(c.Gate.TryBeginAuthentication());
            return _testbed.Keeper.AuthenticateAsync(c.Gate, tickets[i]);
        }).ToList();
        await _store.WaitForRedemptionsAsync(ProtectionOptions.DefaultAuthenticationFailuresPerIp);
        _store.Release();
        await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(connections, c => Assert.True(c.Gate.IsAuthenticated));
        Assert.False(_testbed.Failures.IsLockedOut(IPAddress.Parse(Attacker), out _));
    }

    public void Dispose() => _testbed.Dispose();

    private void LockOut(string address)
    {
        for (var i = 0; i < ProtectionOptions.DefaultAuthenticationFailuresPerIp; i++)
        {
            _testbed.Failures.RecordFailure(IPAddress.Parse(address));
        }

        Assert.True(_testbed.Failures.IsLockedOut(IPAddress.Parse(address), out _));
    }

    private static class Tickets
    {
        /// <summary>A well-formed ticket nobody issued: only the store can tell it is wrong.</summary>
        public static string Unknown() => SecretToken.Create();
    }

    /// <summary>A ticket store whose redemptions can be held at the door, to have many of them in flight at once.</summary>
    private sealed class HeldTicketStore(ITicketStore inner) : ITicketStore
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource? _held;
        private TaskCompletionSource? _reached;
        private int _target;
        private int _redemptions;

        public int Redemptions => Volatile.Read(ref _redemptions);

        public void Hold()
        {
            lock (_lock)
            {
                _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Release()
        {
            lock (_lock)
            {
                _held?.TrySetResult();
                _held = null;
            }
        }

        public Task WaitForRedemptionsAsync(int count)
        {
            lock (_lock)
            {
                _target = count;
                _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_redemptions >= count)
                {
                    _reached.TrySetResult();
                }

                return _reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }

        public ValueTask AddAsync(StoredTicket ticket, CancellationToken cancellationToken = default) => inner.AddAsync(ticket, cancellationToken);

        public async ValueTask<StoredTicket?> TryRedeemAsync(string hash, CancellationToken cancellationToken = default)
        {
            Task held;
            lock (_lock)
            {
                if (++_redemptions >= _target)
                {
                    _reached?.TrySetResult();
                }

                held = _held?.Task ?? Task.CompletedTask;
            }

            await held.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return await inner.TryRedeemAsync(hash, cancellationToken);
        }

        public ValueTask RevokeUserAsync(string user, CancellationToken cancellationToken = default) => inner.RevokeUserAsync(user, cancellationToken);

        public ValueTask RevokeSessionAsync(string sessionKey, CancellationToken cancellationToken = default) => inner.RevokeSessionAsync(sessionKey, cancellationToken);
    }
}
