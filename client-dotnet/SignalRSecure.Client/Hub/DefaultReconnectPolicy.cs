using Microsoft.AspNetCore.SignalR.Client;

namespace SignalRSecure.Client;

/// <summary>Waits <see cref="SecureHubClientOptions.DefaultReconnectDelays"/>, then the last of them forever.</summary>
internal sealed class DefaultReconnectPolicy : IRetryPolicy
{
    public static DefaultReconnectPolicy Instance { get; } = new();

    public TimeSpan? NextRetryDelay(RetryContext retryContext)
    {
        var delays = SecureHubClientOptions.DefaultReconnectDelays;
        return delays[(int)Math.Min(retryContext.PreviousRetryCount, delays.Count - 1)];
    }
}
