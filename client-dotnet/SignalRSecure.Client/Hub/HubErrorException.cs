using SignalRSecure.Contracts;

namespace SignalRSecure.Client;

/// <summary>A hub method failed with an error the server chose to tell: one of <see cref="HubErrors"/>.</summary>
public sealed class HubErrorException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="methodName">The hub method that failed.</param>
    /// <param name="error">One of <see cref="HubErrors"/>, or null when the server did not say why.</param>
    /// <param name="innerException">The error as the SignalR client reported it.</param>
    public HubErrorException(string methodName, string? error, Exception? innerException = null)
        : base(error is null ? $"{methodName} failed on the server." : $"{methodName} failed: {error}.", innerException)
    {
        MethodName = methodName;
        Error = error;
    }

    /// <summary>The hub method that failed, as in <c>nameof(IChatHub.JoinGroup)</c>.</summary>
    public string MethodName { get; }

    /// <summary>
    /// The exact error, one of <see cref="HubErrors"/> (compare with <c>HubErrors.Forbidden</c> and the like), or null
    /// when the server hid the cause (an unexpected server error).
    /// </summary>
    public string? Error { get; }
}
