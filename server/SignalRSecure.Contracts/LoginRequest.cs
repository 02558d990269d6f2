namespace SignalRSecure.Contracts;

/// <summary>The body of <c>POST /auth/login</c>.</summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password; never logged.</param>
public sealed record LoginRequest(string? Username, string? Password);
