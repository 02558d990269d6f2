using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>A user who can sign in with <c>POST /auth/login</c>.</summary>
public sealed class UserAccount
{
    /// <summary>The user name: 1 to 64 of <c>A-Z a-z 0-9 _ . -</c>.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The password hash (PBKDF2-SHA256) as <see cref="PasswordHasher.Hash"/> makes it; the chat server prints one with <c>hash-password</c>.</summary>
    public string PasswordHash { get; set; } = string.Empty;

    /// <summary>The groups the user may join; <c>*</c> stands for any run of characters, as in <c>team-*</c>.</summary>
    public List<string> Groups { get; set; } = [];
}

/// <summary>The configured users, bound from <c>SignalRSecure:Users</c>. The default is none.</summary>
public sealed class UserDirectoryOptions
{
    /// <summary>The configuration section whose <c>Users</c> key this binds.</summary>
    public const string SectionName = "SignalRSecure";

    /// <summary>The users; none unless configured (the Development environment ships two demo users).</summary>
    public List<UserAccount> Users { get; set; } = [];
}

internal sealed class UserDirectoryOptionsValidator : IValidateOptions<UserDirectoryOptions>
{
    public ValidateOptionsResult Validate(string? name, UserDirectoryOptions options)
    {
        var errors = new OptionsErrors(UserDirectoryOptions.SectionName);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Users.Count; i++)
        {
            var user = options.Users[i];
            var key = $"Users:{i}";
            errors.Require(GroupNames.IsValid(user.Name), $"{key}:Name", "must be 1 to 64 of A-Z a-z 0-9 _ . -")
                .Require(seen.Add(user.Name), $"{key}:Name", "repeats another user's name")
                .Require(PasswordHasher.TryParse(user.PasswordHash, out _), $"{key}:PasswordHash", "must be a hash printed by 'hash-password'");
            for (var g = 0; g < user.Groups.Count; g++)
            {
                errors.Require(GroupNames.IsValidPattern(user.Groups[g]), $"{key}:Groups:{g}", "must be a group name, optionally with *");
            }
        }

        return errors.Result();
    }
}
