namespace SignalRSecure.AspNetCore.Accounts;

/// <summary>Checks user names and passwords. The default reads <c>SignalRSecure:Users</c>.</summary>
public interface IUserDirectory
{
    /// <summary>
    /// Returns the account when <paramref name="password"/> is the password of <paramref name="username"/>, otherwise
    /// null, taking about the same time whether or not the user exists.
    /// </summary>
    /// <remarks>
    /// <c>/auth/login</c> calls it on one of the password verification threads
    /// (<see cref="LoginOptions.MaxConcurrentVerifications"/>, never a thread-pool thread), so CPU-bound work such as
    /// PBKDF2 belongs here as it is. An implementation that completes asynchronously holds its thread until it is done:
    /// the budget bounds slow directories too.
    /// </remarks>
    ValueTask<UserAccount?> VerifyAsync(string? username, string? password, CancellationToken cancellationToken = default);
}

/// <summary>The default <see cref="IUserDirectory"/>: the users in configuration.</summary>
internal sealed class ConfiguredUserDirectory : IUserDirectory
{
    private readonly Dictionary<string, (UserAccount Account, PasswordHash Hash)> _users = new(StringComparer.Ordinal);

    // Unknown users are checked against this, so that they cost as much time as known ones.
    private readonly PasswordHash _decoy;

    public ConfiguredUserDirectory(Microsoft.Extensions.Options.IOptions<UserDirectoryOptions> options)
    {
        foreach (var account in options.Value.Users)
        {
            PasswordHasher.TryParse(account.PasswordHash, out var hash);
            _users[account.Name] = (account, hash);
        }

        var iterations = _users.Count == 0 ? PasswordHasher.DefaultIterations : _users.Values.Max(user => user.Hash.Iterations);
        PasswordHasher.TryParse(PasswordHasher.Hash(Guid.NewGuid().ToString(), iterations), out _decoy);
    }

    public ValueTask<UserAccount?> VerifyAsync(string? username, string? password, CancellationToken cancellationToken = default)
    {
        (UserAccount Account, PasswordHash Hash) user = default;
        var known = username is not null && _users.TryGetValue(username, out user);
        var usable = password is { Length: > 0 and <= PasswordHasher.MaximumPasswordLength };

        // Always one PBKDF2 run, against the decoy when the user is unknown: the time says nothing about existence.
        // Stryker disable once String: equivalent, an unusable password is refused by usable whatever stands in for it, and PBKDF2 takes the same time for either
        var matches = PasswordHasher.Verify(usable ? password! : string.Empty, known ? user.Hash : _decoy);
        return ValueTask.FromResult(known && usable && matches ? user.Account : null);
    }
}
