namespace SignalRSecure.Contracts;

/// <summary>The answer to a successful <c>POST /auth/login</c>.</summary>
/// <param name="User">The signed-in user.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
public sealed record LoginResponse(string User, IReadOnlyList<string> Groups);
