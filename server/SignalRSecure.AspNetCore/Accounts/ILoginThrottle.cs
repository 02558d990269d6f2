using System.Net;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>
/// The login limits: <see cref="LoginOptions.AttemptsPerIp"/> per IP and <see cref="LoginOptions.AttemptsPerUser"/>
/// per user name within <see cref="LoginOptions.AttemptWindow"/>. The default counts in this process; a shared
/// implementation counts for every node, so that N nodes do not give N times the attempts.
/// </summary>
/// <remarks>A shared store can be down: the call then throws, and the login answers 503 with <c>Retry-After</c> (fail closed).</remarks>
internal interface ILoginThrottle
{
    /// <summary>Counts one attempt; not acquired, with how long to wait, when a limit is reached.</summary>
    ValueTask<(bool Acquired, TimeSpan RetryAfter)> TryAcquireAsync(IPAddress? ip, string? username, CancellationToken cancellationToken = default);
}
