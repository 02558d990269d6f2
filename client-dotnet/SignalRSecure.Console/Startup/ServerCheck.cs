using SignalRSecure.Contracts;

namespace SignalRSecure.ChatConsole.Startup;

/// <summary>Whether the server answers at all, asked before the password so that a wrong <c>--url</c> fails first.</summary>
internal static class ServerCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Asks <c>GET /healthz</c> of <paramref name="serverUrl"/>; null when it answers 200, else why not in one line
    /// (connection refused, a TLS failure and its reason, no answer, another status).
    /// </summary>
    public static async Task<string?> FindProblemAsync(Uri serverUrl, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout };
        var health = new Uri(serverUrl, SecureEndpoints.Health);
        try
        {
            using var response = await http.GetAsync(health, cancellationToken);
            return response.IsSuccessStatusCode
                ? null
                : $"{health} answered {(int)response.StatusCode} {response.ReasonPhrase}: is --url a SignalRSecure server?";
        }
        catch (HttpRequestException ex)
        {
            return Terminal.ErrorText.Describe(ex);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer from {health} within {Timeout.TotalSeconds:0} s";
        }
    }
}
