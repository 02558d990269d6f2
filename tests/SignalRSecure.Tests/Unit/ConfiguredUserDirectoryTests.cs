using System.Reflection;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;

namespace SignalRSecure.Tests.Unit;

/// <summary>The default user directory: the configured users and their password hashes.</summary>
public sealed class ConfiguredUserDirectoryTests
{
    // Few iterations: these tests are about which answers the directory gives, not about the hash's cost.
    private const int Iterations = 1_000;
    private static readonly string LongestPassword = new('p', PasswordHasher.MaximumPasswordLength);
    private static readonly string TooLongPassword = new('p', PasswordHasher.MaximumPasswordLength + 1);

    private readonly ConfiguredUserDirectory _directory = Directory(
        ("alice", "correct horse", Iterations), ("bob", string.Empty, Iterations), ("carol", LongestPassword, Iterations), ("dave", TooLongPassword, Iterations));

    [Fact]
    public async Task VerifyAsync_RightPassword_ReturnsTheAccount()
    {
        var account = await _directory.VerifyAsync("alice", "correct horse");

        Assert.Equal("alice", account?.Name);
        Assert.Equal(["general"], account!.Groups);
    }

    [Theory]
    [InlineData("alice", "correct horse ")]
    [InlineData("alice", "Correct horse")]
    [InlineData("alice", null)]
    [InlineData("Alice", "correct horse")]
    [InlineData("mallory", "correct horse")]
    [InlineData(null, "correct horse")]
    public async Task VerifyAsync_WrongUserOrPassword_ReturnsNull(string? username, string? password)
    {
        Assert.Null(await _directory.VerifyAsync(username, password));
    }

    [Fact]
    public async Task VerifyAsync_EmptyPassword_IsRefusedEvenWhenItIsTheConfiguredOne()
    {
        Assert.Null(await _directory.VerifyAsync("bob", string.Empty));
    }

    [Fact]
    public async Task VerifyAsync_PasswordOfTheMaximumLength_IsAccepted_OneLonger_IsRefused()
    {
        Assert.Equal("carol", (await _directory.VerifyAsync("carol", LongestPassword))?.Name);
        Assert.Null(await _directory.VerifyAsync("dave", TooLongPassword));
    }

    [Fact]
    public void Constructor_UnknownUsersDecoy_CostsAsManyIterationsAsTheCostliestUser()
    {
        // An unknown user is checked against the decoy: fewer iterations than the real users' would make a failed
        // login for a name that does not exist measurably faster than one for a name that does.
        var mixed = Directory(("alice", "a", Iterations), ("bob", "b", 3 * Iterations), ("carol", "c", 2 * Iterations));
        var none = new ConfiguredUserDirectory(Options.Create(new UserDirectoryOptions()));

        Assert.Equal(3 * Iterations, DecoyIterations(mixed));
        Assert.Equal(PasswordHasher.DefaultIterations, DecoyIterations(none));
    }

    private static ConfiguredUserDirectory Directory(params (string Name, string Password, int Iterations)[] users) =>
        new(Options.Create(new UserDirectoryOptions
        {
            Users = [.. users.Select(user => new UserAccount { Name = user.Name, PasswordHash = PasswordHasher.Hash(user.Password, user.Iterations), Groups = ["general"] })],
        }));

    private static int DecoyIterations(ConfiguredUserDirectory directory) =>
        ((PasswordHash)typeof(ConfiguredUserDirectory).GetField("_decoy", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(directory)!).Iterations;
}
