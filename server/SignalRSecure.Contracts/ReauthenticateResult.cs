namespace SignalRSecure.Contracts;

/// <summary>The result of <see cref="ISecureHub.Reauthenticate"/>.</summary>
/// <param name="ExpiresAt">The new end of the session.</param>
public sealed record ReauthenticateResult(DateTimeOffset ExpiresAt);
