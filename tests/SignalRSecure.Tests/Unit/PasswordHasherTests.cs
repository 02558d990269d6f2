using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Server;

namespace SignalRSecure.Tests.Unit;

public sealed class PasswordHasherTests
{
    [Fact]
    public void Verify_RightPassword_IsTrue_WrongPassword_IsFalse()
    {
        var encoded = PasswordHasher.Hash("correct horse", iterations: 1_000);

        Assert.True(PasswordHasher.TryParse(encoded, out var hash));
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct horsE", hash));
    }

    [Fact]
    public void Hash_SamePasswordTwice_UsesDifferentSalts()
    {
        Assert.NotEqual(PasswordHasher.Hash("pw", 1_000), PasswordHasher.Hash("pw", 1_000));
    }

    [Fact]
    public void Hash_ByDefault_Uses600000Iterations()
    {
        Assert.StartsWith("pbkdf2-sha256$600000$", PasswordHasher.Hash("pw"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("plain-text-password")]
    [InlineData("pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha1$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$1000$not-base64$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAA")]
    public void TryParse_MalformedHash_IsFalse(string? encoded) => Assert.False(PasswordHasher.TryParse(encoded, out _));

    [Fact]
    public void HashPasswordCommand_PasswordOnStdin_PrintsVerifiableHash()
    {
        var output = new StringWriter();

        var exitCode = HashPasswordCommand.Run(new StringReader("s3cret\n"), output, new StringWriter());

        Assert.Equal(0, exitCode);
        Assert.True(PasswordHasher.TryParse(output.ToString().Trim(), out var hash));
        Assert.True(PasswordHasher.Verify("s3cret", hash));
        Assert.DoesNotContain("s3cret", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HashPasswordCommand_EmptyStdin_Fails()
    {
        Assert.Equal(1, HashPasswordCommand.Run(new StringReader(string.Empty), new StringWriter(), new StringWriter()));
    }
}
