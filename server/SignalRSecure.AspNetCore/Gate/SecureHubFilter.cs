using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The gate at the method level, behind <see cref="GateReader"/>: refuses every method but
/// Authenticate before authentication (a second line, should anything reach a hub method), and applies the
/// per-connection and per-user invocation rate limits after it.
/// </summary>
internal sealed class SecureHubFilter(ILogger<SecureHubFilter> logger) : IHubFilter
{
    private const string AuthenticateMethod = nameof(SecureHub<object>.Authenticate);

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var gate = ConnectionGate.From(invocationContext.Context)
            ?? throw new HubException(HubErrors.AuthenticationRequired);
        if (gate.State == GateState.Closing)
        {
            // Frames that arrived with the one that closed the connection: answer with why it is closing.
            throw new HubException(gate.CloseReason ?? HubErrors.AuthenticationRequired);
        }

        if (!gate.IsAuthenticated)
        {
            if (invocationContext.HubMethodName == AuthenticateMethod && gate.State == GateState.Authenticating)
            {
                return await next(invocationContext);
            }

            gate.CloseAfterReply(CloseReasons.AuthenticationRequired);
            throw new HubException(HubErrors.AuthenticationRequired);
        }

        // The connection's own bucket first: a connection over its own limit does not spend its user's budget.
        var overConnectionLimit = !gate.TryTakeInvocation();
        if (overConnectionLimit || !await gate.TryTakeUserInvocationAsync())
        {
            gate.Keeper.OnRateLimited(gate, userLimit: !overConnectionLimit);
            if (!gate.TryTakeRateLimitStrike())
            {
                gate.CloseAfterReply(CloseReasons.RateLimited);
            }

            throw new HubException(HubErrors.RateLimited);
        }

        try
        {
            return await next(invocationContext);
        }
        catch (Exception ex) when (ex is not HubException and not OperationCanceledException)
        {
            // SignalR's own log of this is silenced (it would carry arguments); the client gets a generic error.
            GateLog.HubMethodFailed(logger, invocationContext.HubMethodName, gate.ConnectionId, ex);
            throw;
        }
    }
}
