using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The base of a hub behind the SignalRSecure gate: it provides <see cref="Authenticate"/> and
/// <see cref="Reauthenticate"/> (<see cref="ISecureHub"/>). Map the hub with <c>MapSecureHub</c> and register it with
/// <c>AddSecureHub</c>; every other method of the hub runs only for authenticated connections, as
/// <see cref="CurrentUser"/>.
/// </summary>
/// <typeparam name="TClient">The interface of client callbacks.</typeparam>
public abstract class SecureHub<TClient> : Hub<TClient>, ISecureHub
    where TClient : class
{
    /// <summary>The authenticated user of the calling connection.</summary>
    /// <exception cref="HubException">The connection has not authenticated (never the case in a gated hub method).</exception>
    protected AuthenticatedUser CurrentUser =>
        ConnectionGate.From(Context)?.Identity ?? throw new HubException(HubErrors.AuthenticationRequired);

    /// <summary>
    /// The authenticated user of the connection, where it may not have authenticated: in
    /// <see cref="Hub.OnDisconnectedAsync"/>, which runs for every connection that completed the SignalR handshake.
    /// </summary>
    /// <param name="user">The user, when this returns true.</param>
    /// <returns>Whether the connection authenticated.</returns>
    protected bool TryGetCurrentUser([NotNullWhen(true)] out AuthenticatedUser? user)
    {
        user = ConnectionGate.From(Context)?.Identity;
        return user is not null;
    }

    /// <summary>Redeems a single-use ticket. Allowed once per connection, as its first invocation.</summary>
    /// <param name="ticket">The ticket from <c>POST /auth/ticket</c> or <c>POST /auth/tickets</c>.</param>
    /// <returns>The user, the groups the user may join and the end of the session.</returns>
    /// <exception cref="HubException"><c>authentication failed</c> (and the connection closes), or <c>already authenticated</c>.</exception>
    public async Task<AuthenticateResult> Authenticate(string ticket)
    {
        var gate = RequireGate();
        using var activity = StartActivity("signalrsecure.authenticate", gate);
        try
        {
            var result = await gate.Keeper.AuthenticateAsync(gate, ticket);
            activity?.SetTag("user.name", result.User);
            SecureHubTracing.SetOutcome(activity, SecureHubTracing.OkOutcome);
            return result;
        }
        catch (HubException ex)
        {
            // The message is one of the contract's generic errors, the same the caller gets.
            SecureHubTracing.SetOutcome(activity, ex.Message);
            throw;
        }
    }

    /// <summary>Redeems a fresh ticket of the same user to extend the session of this connection.</summary>
    /// <param name="ticket">A fresh ticket of the connection's user.</param>
    /// <returns>The new end of the session.</returns>
    /// <exception cref="HubException"><c>authentication failed</c>, and the connection closes.</exception>
    public async Task<ReauthenticateResult> Reauthenticate(string ticket)
    {
        var gate = RequireGate();
        using var activity = StartActivity("signalrsecure.reauthenticate", gate);
        activity?.SetTag("user.name", gate.User);
        try
        {
            var result = await gate.Keeper.ReauthenticateAsync(gate, ticket);
            SecureHubTracing.SetOutcome(activity, SecureHubTracing.OkOutcome);
            return result;
        }
        catch (HubException ex)
        {
            SecureHubTracing.SetOutcome(activity, ex.Message);
            throw;
        }
    }

    private static Activity? StartActivity(string name, ConnectionGate gate)
    {
        var activity = SecureHubTracing.Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag("signalr.connection.id", gate.ConnectionId);
        activity?.SetTag("client.address", gate.RemoteIp?.ToString());
        return activity;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        // SignalR releases the hub of an invocation after writing its reply: a close the invocation asked for can go now.
        if (disposing && Context is { } context)
        {
            ConnectionGate.From(context)?.InvocationEnded();
        }

        // Stryker disable once Statement: equivalent, SignalR's Hub.Dispose(bool) is empty (Hub<T> does not override it)
        base.Dispose(disposing);
    }

    private ConnectionGate RequireGate() =>
        ConnectionGate.From(Context) ?? throw new InvalidOperationException($"{GetType().Name} must be mapped with MapSecureHub.");
}
