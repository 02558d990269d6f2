using System.Threading.RateLimiting;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// The permits one admitted connection holds. Disposing it gives them all back; disposing it again does nothing.
/// </summary>
internal sealed class Admission(RateLimitLease connection, RateLimitLease unauthenticated) : IDisposable
{
    private RateLimitLease? _connection = connection;
    private RateLimitLease? _unauthenticated = unauthenticated;

    /// <summary>Gives back the unauthenticated permit; the connection permit is kept until <see cref="Dispose"/>.</summary>
    public void MarkAuthenticated() => Interlocked.Exchange(ref _unauthenticated, null)?.Dispose();

    public void Dispose()
    {
        MarkAuthenticated();
        Interlocked.Exchange(ref _connection, null)?.Dispose();
    }
}
