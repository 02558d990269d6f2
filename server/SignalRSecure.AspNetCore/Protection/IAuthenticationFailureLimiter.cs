using System.Net;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The failed-authentication lockout per IP, with the rules of <see cref="AuthenticationFailureLimiter"/>: attempts
/// in flight count against <see cref="ProtectionOptions.AuthenticationFailuresPerIp"/>, and a locked-out address is
/// refused before its ticket is read. The default counts in this process; a shared implementation counts for every
/// node, so that N nodes do not give an address N times the attempts.
/// </summary>
/// <remarks>
/// A shared store can be slow or down: every member may throw. The gate then refuses the <c>Authenticate</c> as
/// unavailable without reading the ticket (fail closed), and lets the door check pass (the <c>Authenticate</c> that
/// must follow fails closed anyway).
/// </remarks>
internal interface IAuthenticationFailureLimiter
{
    /// <summary>How much longer <paramref name="address"/> is locked out; zero when it is not.</summary>
    ValueTask<TimeSpan> GetLockoutAsync(IPAddress? address, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts an authentication attempt from <paramref name="address"/>: null, at once or after waiting for the
    /// attempts ahead of it, when the address is locked out. Every attempt returned must be ended with
    /// <see cref="EndAttemptAsync"/>.
    /// </summary>
    ValueTask<AuthenticationAttempt?> TryBeginAttemptAsync(IPAddress? address, CancellationToken cancellationToken = default);

    /// <summary>Ends an attempt; returns true when its failure locks the address out.</summary>
    ValueTask<bool> EndAttemptAsync(AuthenticationAttempt attempt, bool failed, CancellationToken cancellationToken = default);

    /// <summary>Counts one failure outside an attempt (a malformed Authenticate); returns true when it locks the address out.</summary>
    ValueTask<bool> RecordFailureAsync(IPAddress? address, CancellationToken cancellationToken = default);
}
