using System.Net;
using Microsoft.Extensions.Logging;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>Log events of the auth endpoints. None carries a password, a ticket, a session id or a key.</summary>
internal static partial class AccountsLog
{
    [LoggerMessage(EventId = 201, EventName = "LoginSucceeded", Level = LogLevel.Information,
        Message = "{User} signed in from {RemoteIp}")]
    public static partial void LoginSucceeded(ILogger logger, string user, IPAddress? remoteIp);

    [LoggerMessage(EventId = 202, EventName = "LoginFailed", Level = LogLevel.Warning,
        Message = "Failed sign-in as {Username} from {RemoteIp}")]
    public static partial void LoginFailed(ILogger logger, string username, IPAddress? remoteIp);

    [LoggerMessage(EventId = 203, EventName = "LoginThrottled", Level = LogLevel.Warning,
        Message = "Sign-in from {RemoteIp} refused: too many attempts")]
    public static partial void LoginThrottled(ILogger logger, IPAddress? remoteIp);

    [LoggerMessage(EventId = 204, EventName = "TicketIssued", Level = LogLevel.Information,
        Message = "Ticket issued to {User} for {RemoteIp}")]
    public static partial void TicketIssued(ILogger logger, string user, string? remoteIp);

    [LoggerMessage(EventId = 205, EventName = "LoggedOut", Level = LogLevel.Information,
        Message = "{User} signed out; {Connections} hub connections closed")]
    public static partial void LoggedOut(ILogger logger, string user, int connections);

    [LoggerMessage(EventId = 206, EventName = "UserRevoked", Level = LogLevel.Warning,
        Message = "{User} revoked by the issuer; {Connections} hub connections closed")]
    public static partial void UserRevoked(ILogger logger, string user, int connections);

    [LoggerMessage(EventId = 207, EventName = "IssuerKeyRejected", Level = LogLevel.Warning,
        Message = "Request to {Path} from {RemoteIp} refused: wrong issuer key")]
    public static partial void IssuerKeyRejected(ILogger logger, string path, IPAddress? remoteIp);

    [LoggerMessage(EventId = 208, EventName = "LoginVerificationRefused", Level = LogLevel.Warning,
        Message = "Sign-in from {RemoteIp} refused: every password verification thread is busy and the queue is full")]
    public static partial void LoginVerificationRefused(ILogger logger, IPAddress? remoteIp);

    [LoggerMessage(EventId = 209, EventName = "StoreFailed", Level = LogLevel.Warning,
        Message = "An auth request from {RemoteIp} answered 503: a store failed")]
    public static partial void StoreFailed(ILogger logger, System.Net.IPAddress? remoteIp, Exception exception);
}
