namespace SignalRSecure.Client;

/// <summary>When to redeem a fresh ticket so that the session is extended before the server ends it.</summary>
internal static class ReauthenticationSchedule
{
    /// <summary>
    /// The shortest wait: with a skewed clock or a session already over, renewals must not spin (each costs a ticket).
    /// </summary>
    public static readonly TimeSpan MinimumDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long to wait before renewing a session with <paramref name="remaining"/> left: until
    /// <paramref name="renewBefore"/> is left, or a third of <paramref name="remaining"/> for a shorter session. A failed
    /// renewal asks again, which yields retries at ever shorter intervals until the session ends.
    /// </summary>
    public static TimeSpan DelayUntilRenewal(TimeSpan remaining, TimeSpan renewBefore)
    {
        var lead = remaining / 3 < renewBefore ? remaining / 3 : renewBefore;
        var delay = remaining - lead;
        return delay < MinimumDelay ? MinimumDelay : delay;
    }
}
