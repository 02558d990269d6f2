using System.Diagnostics;

namespace SignalRSecure.AspNetCore.Diagnostics;

/// <summary>
/// The server's traces on the activity source <see cref="ActivitySourceName"/>: one activity per auth endpoint
/// request (<c>signalrsecure.login</c>, <c>signalrsecure.ticket</c>, ...) and per <c>Authenticate</c> and
/// <c>Reauthenticate</c>. Add the source to a tracer (for OpenTelemetry: <c>.AddSource(SecureHubTracing.ActivitySourceName)</c>).
/// </summary>
/// <remarks>
/// Tags carry the outcome, the client's address, the connection id and, once known, the user; never a ticket, a
/// password, a session cookie or a key. A failed login records no user name: users type passwords into it.
/// </remarks>
public static class SecureHubTracing
{
    /// <summary>The name of the activity source of every SignalRSecure activity.</summary>
    public const string ActivitySourceName = "SignalRSecure";

    /// <summary>The tag that names how the operation ended: <c>ok</c>, or the error the caller was given.</summary>
    public const string OutcomeTag = "signalrsecure.outcome";

    internal const string OkOutcome = "ok";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>Marks <paramref name="activity"/> as ended with <paramref name="outcome"/>, an error unless it is <c>ok</c>.</summary>
    internal static void SetOutcome(Activity? activity, string outcome)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(OutcomeTag, outcome);
        if (outcome != OkOutcome)
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
        }
    }
}
