namespace SignalRSecure.Client;

/// <summary>
/// Gets a fresh single-use ticket for the hub, such as <see cref="CookieTicketSource.GetTicketAsync"/>.
/// <see cref="SecureHubClient"/> calls it once for every connection and every re-authentication, right before it
/// redeems the ticket.
/// </summary>
/// <remarks>
/// An <see cref="AuthRequestException"/> that is not <see cref="AuthRequestException.IsRetryable"/> stops the client;
/// any other exception counts as a failed attempt, retried as the reconnect policy says.
/// </remarks>
/// <param name="cancellationToken">Canceled when the client stops or the attempt times out.</param>
/// <returns>The ticket, never to be logged or put in a URL.</returns>
public delegate Task<string> TicketProvider(CancellationToken cancellationToken);
