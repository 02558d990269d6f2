namespace SignalRSecure.Contracts;

/// <summary>The result of <see cref="ISecureHub.Authenticate"/>.</summary>
/// <param name="User">The user the ticket was issued to.</param>
/// <param name="Groups">The groups, or group patterns such as <c>team-*</c>, the user may join.</param>
/// <param name="ExpiresAt">When the session ends unless <see cref="ISecureHub.Reauthenticate"/> extends it.</param>
public sealed record AuthenticateResult(string User, IReadOnlyList<string> Groups, DateTimeOffset ExpiresAt);
