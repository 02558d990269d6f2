namespace SignalRSecure.Contracts;

/// <summary>The result of <see cref="IChatHub.Authenticate"/>.</summary>
/// <param name="User">The user the ticket was issued to.</param>
/// <param name="Groups">The groups, or group patterns such as <c>team-*</c>, the user may join.</param>
/// <param name="ExpiresAt">When the session ends unless <see cref="IChatHub.Reauthenticate"/> extends it.</param>
public sealed record AuthenticateResult(string User, IReadOnlyList<string> Groups, DateTimeOffset ExpiresAt);

/// <summary>The result of <see cref="IChatHub.Reauthenticate"/>.</summary>
/// <param name="ExpiresAt">The new end of the session.</param>
public sealed record ReauthenticateResult(DateTimeOffset ExpiresAt);

/// <summary>A chat message delivered by <see cref="IChatClient.ReceiveMessage"/>.</summary>
/// <param name="From">The sending user.</param>
/// <param name="Text">The text, to be shown as text and never interpreted as markup.</param>
/// <param name="Group">The group it was sent to, or null for a broadcast.</param>
/// <param name="SentAt">When the server accepted it.</param>
public sealed record ChatMessage(string From, string Text, string? Group, DateTimeOffset SentAt);

/// <summary>A user joining or leaving a group, delivered by <see cref="IChatClient.UserJoined"/> and <see cref="IChatClient.UserLeft"/>.</summary>
/// <param name="Group">The group.</param>
/// <param name="User">The user who joined or left.</param>
public sealed record GroupPresence(string Group, string User);

/// <summary>The body of <c>POST /auth/login</c>.</summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password; never logged.</param>
public sealed record LoginRequest(string? Username, string? Password);

/// <summary>The answer to a successful <c>POST /auth/login</c>.</summary>
/// <param name="User">The signed-in user.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
public sealed record LoginResponse(string User, IReadOnlyList<string> Groups);

/// <summary>The answer of both ticket endpoints.</summary>
/// <param name="Ticket">The single-use ticket to pass to <see cref="IChatHub.Authenticate"/>; never put it in a URL or a log.</param>
/// <param name="ExpiresAt">When the ticket stops being redeemable.</param>
public sealed record TicketResponse(string Ticket, DateTimeOffset ExpiresAt);

/// <summary>The body of <c>POST /auth/tickets</c>, used by a separate auth server holding the issuer key.</summary>
/// <param name="User">The user to issue the ticket to.</param>
/// <param name="Groups">The groups, or group patterns, the user may join.</param>
/// <param name="ClientIp">Optional: the end user's IP address, to bind the ticket to it.</param>
/// <param name="Origin">Optional: the browser origin the ticket will be redeemed from, to bind the ticket to it.</param>
/// <param name="UserAgent">
/// Optional: the exact <c>User-Agent</c> the end user's client will send when it opens the hub (empty for none), to bind
/// the ticket to it.
/// </param>
public sealed record IssueTicketRequest(
    string? User, IReadOnlyList<string>? Groups, string? ClientIp = null, string? Origin = null, string? UserAgent = null);

/// <summary>The body of every JSON error answer of the HTTP endpoints.</summary>
/// <param name="Error">A short, generic error text.</param>
public sealed record ErrorResponse(string Error);
