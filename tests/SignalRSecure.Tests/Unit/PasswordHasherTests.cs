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

    [Fact]
    public void Hash_GivenIterations_WritesThemWithA16ByteSaltAndA32ByteKey()
    {
        var encoded = PasswordHasher.Hash("pw", iterations: 1_234);

        Assert.True(PasswordHasher.TryParse(encoded, out var hash));
        Assert.Equal("1234", encoded.Split('$')[1]);
        Assert.Equal((1_234, 16, 32), (hash.Iterations, hash.Salt.Length, hash.Hash.Length));
    }

    [Fact]
    public void Verify_IterationCountChanged_IsFalse()
    {
        var encoded = PasswordHasher.Hash("pw", iterations: 1_000);

        Assert.True(PasswordHasher.TryParse(encoded.Replace("$1000$", "$1001$", StringComparison.Ordinal), out var changed));
        Assert.False(PasswordHasher.Verify("pw", changed));
    }

    [Fact]
    public void Verify_KnownVector_IsTrue()
    {
        // PBKDF2-HMAC-SHA256, password "password", salt "salt", 1 iteration, 32 bytes (RFC 7914 section 11 style vector).
        var salt = Convert.ToBase64String("saltsalt"u8.ToArray());
        var key = Convert.ToBase64String(System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("password"u8.ToArray(), "saltsalt"u8.ToArray(), 1, System.Security.Cryptography.HashAlgorithmName.SHA256, 32));

        Assert.True(PasswordHasher.TryParse($"pbkdf2-sha256$1${salt}${key}", out var hash));
        Assert.True(PasswordHasher.Verify("password", hash));
        Assert.False(PasswordHasher.Verify("Password", hash));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Hash_IterationsBelowOne_ThrowsNamingTheIterations(int iterations) =>
        Assert.Equal("iterations", Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.Hash("pw", iterations)).ParamName);

    [Fact]
    public void Hash_NullPassword_ThrowsNamingThePassword() =>
        Assert.Equal("password", Assert.Throws<ArgumentNullException>(() => PasswordHasher.Hash(null!, 1_000)).ParamName);

    [Theory]
    [InlineData(8, 32, true)]
    [InlineData(7, 32, false)]
    [InlineData(16, 31, false)]
    [InlineData(16, 33, false)]
    public void TryParse_SaltAndKeyLengths_AcceptsSaltsOfEightBytesOrMoreAndOnly32ByteKeys(int saltBytes, int keyBytes, bool expected)
    {
        var encoded = $"pbkdf2-sha256$1${Convert.ToBase64String(new byte[saltBytes])}${Convert.ToBase64String(new byte[keyBytes])}";

        Assert.Equal(expected, PasswordHasher.TryParse(encoded, out _));
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("+5", false)]
    [InlineData("-1", false)]
    [InlineData("99999999999", false)]
    [InlineData("", false)]
    public void TryParse_IterationCount_AcceptsOnlyPositiveDigits(string iterations, bool expected)
    {
        var encoded = $"pbkdf2-sha256${iterations}${Convert.ToBase64String(new byte[16])}${Convert.ToBase64String(new byte[32])}";

        Assert.Equal(expected, PasswordHasher.TryParse(encoded, out _));
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
