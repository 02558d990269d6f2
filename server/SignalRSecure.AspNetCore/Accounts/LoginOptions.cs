using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>Login sessions and login limits. Bound from <see cref="SectionName"/>.</summary>
public sealed class LoginOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Login";

    /// <summary>The default of <see cref="SessionLifetime"/>.</summary>
    public static readonly TimeSpan DefaultSessionLifetime = TimeSpan.FromHours(8);

    /// <summary>The default of <see cref="AttemptsPerUser"/>.</summary>
    public const int DefaultAttemptsPerUser = 5;

    /// <summary>The default of <see cref="AttemptsPerIp"/>.</summary>
    public const int DefaultAttemptsPerIp = 20;

    /// <summary>The default of <see cref="AttemptWindow"/>.</summary>
    public static readonly TimeSpan DefaultAttemptWindow = TimeSpan.FromMinutes(1);

    /// <summary>The default of <see cref="MaxConcurrentVerifications"/>: the processor count.</summary>
    public static readonly int DefaultMaxConcurrentVerifications = Environment.ProcessorCount;

    /// <summary>The default of <see cref="VerificationQueueLimit"/>.</summary>
    public const int DefaultVerificationQueueLimit = 50;

    /// <summary>The highest <see cref="MaxConcurrentVerifications"/> accepted: each one is a dedicated thread.</summary>
    public const int MaximumConcurrentVerifications = 256;

    /// <summary>How long a login session (the cookie) lasts. The default is 8 hours.</summary>
    public TimeSpan SessionLifetime { get; set; } = DefaultSessionLifetime;

    /// <summary>Login attempts per user name within <see cref="AttemptWindow"/>, whether the user exists or not. The default is 5.</summary>
    public int AttemptsPerUser { get; set; } = DefaultAttemptsPerUser;

    /// <summary>Login attempts per IP within <see cref="AttemptWindow"/>. The default is 20.</summary>
    public int AttemptsPerIp { get; set; } = DefaultAttemptsPerIp;

    /// <summary>The window login attempts are counted in. The default is 1 minute.</summary>
    public TimeSpan AttemptWindow { get; set; } = DefaultAttemptWindow;

    /// <summary>
    /// Password verifications (<see cref="IUserDirectory.VerifyAsync"/> calls) that run at once, all users and
    /// addresses together, each on a dedicated thread, so that PBKDF2 never takes the thread pool's threads. The
    /// default is the processor count.
    /// </summary>
    public int MaxConcurrentVerifications { get; set; } = DefaultMaxConcurrentVerifications;

    /// <summary>
    /// Logins that may wait, first come first served, for a verification thread; beyond it a login gets 503 with
    /// <c>Retry-After</c>. The default is 50.
    /// </summary>
    public int VerificationQueueLimit { get; set; } = DefaultVerificationQueueLimit;
}

internal sealed class LoginOptionsValidator : IValidateOptions<LoginOptions>
{
    public ValidateOptionsResult Validate(string? name, LoginOptions options) =>
        new OptionsErrors(LoginOptions.SectionName)
            .Positive(nameof(options.SessionLifetime), options.SessionLifetime)
            .Positive(nameof(options.AttemptsPerUser), options.AttemptsPerUser)
            .Positive(nameof(options.AttemptsPerIp), options.AttemptsPerIp)
            .Positive(nameof(options.AttemptWindow), options.AttemptWindow)
            .Require(
                options.MaxConcurrentVerifications is >= 1 and <= LoginOptions.MaximumConcurrentVerifications,
                nameof(options.MaxConcurrentVerifications),
                $"must be between 1 and {LoginOptions.MaximumConcurrentVerifications}")
            .Require(options.VerificationQueueLimit >= 0, nameof(options.VerificationQueueLimit), "must be zero or greater")
            .Result();
}
