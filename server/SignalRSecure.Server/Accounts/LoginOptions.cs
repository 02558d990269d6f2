using Microsoft.Extensions.Options;
using SignalRSecure.Server.Hosting;

namespace SignalRSecure.Server.Accounts;

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

    /// <summary>How long a login session (the cookie) lasts. The default is 8 hours.</summary>
    public TimeSpan SessionLifetime { get; set; } = DefaultSessionLifetime;

    /// <summary>Login attempts per user name within <see cref="AttemptWindow"/>, whether the user exists or not. The default is 5.</summary>
    public int AttemptsPerUser { get; set; } = DefaultAttemptsPerUser;

    /// <summary>Login attempts per IP within <see cref="AttemptWindow"/>. The default is 20.</summary>
    public int AttemptsPerIp { get; set; } = DefaultAttemptsPerIp;

    /// <summary>The window login attempts are counted in. The default is 1 minute.</summary>
    public TimeSpan AttemptWindow { get; set; } = DefaultAttemptWindow;
}

internal sealed class LoginOptionsValidator : IValidateOptions<LoginOptions>
{
    public ValidateOptionsResult Validate(string? name, LoginOptions options) =>
        new OptionsErrors(LoginOptions.SectionName)
            .Positive(nameof(options.SessionLifetime), options.SessionLifetime)
            .Positive(nameof(options.AttemptsPerUser), options.AttemptsPerUser)
            .Positive(nameof(options.AttemptsPerIp), options.AttemptsPerIp)
            .Positive(nameof(options.AttemptWindow), options.AttemptWindow)
            .Result();
}
