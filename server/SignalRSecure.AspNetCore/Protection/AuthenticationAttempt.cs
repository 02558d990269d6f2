using System.Net;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>One authentication attempt in flight, from <see cref="IAuthenticationFailureLimiter.TryBeginAttemptAsync"/>.</summary>
/// <param name="Address">The address it counts against.</param>
/// <param name="Id">What the limiter knows it by (empty for the in-memory limiter, which needs none).</param>
internal sealed record AuthenticationAttempt(IPAddress? Address, string Id);
