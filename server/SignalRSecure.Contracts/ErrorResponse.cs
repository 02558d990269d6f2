namespace SignalRSecure.Contracts;

/// <summary>The body of every JSON error answer of the HTTP endpoints.</summary>
/// <param name="Error">A short, generic error text.</param>
public sealed record ErrorResponse(string Error);
