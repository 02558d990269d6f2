using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.AspNetCore.Tickets;
using SignalRSecure.Server.Chat;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// Every validator of a name, pattern, origin or key judges the whole string: in .NET <c>$</c> also matches before a
/// final <c>\n</c>, and <see cref="Uri.TryCreate(string, UriKind, out Uri)"/> trims surrounding whitespace and controls.
/// </summary>
public sealed class WholeStringValidationTests
{
    private static readonly string[] Terminators = ["\n", "\r\n", "\r", "\u0085", "\u2028", "\u2029", "\t", " ", "\0"];

    /// <summary><paramref name="value"/> with each terminator after it and before it.</summary>
    private static TheoryData<string> Around(string value)
    {
        var data = new TheoryData<string>();
        foreach (var terminator in Terminators)
        {
            data.Add(value + terminator);
            data.Add(terminator + value);
        }

        return data;
    }

    public static TheoryData<string> GroupNamesWithTerminators => Around("general");

    public static TheoryData<string> PatternsWithTerminators => Around("team-*");

    public static TheoryData<string> UserNamesWithTerminators => Around("mallory");

    public static TheoryData<string> OriginsWithTerminators => Around("https://app.example.com");

    [Theory]
    [MemberData(nameof(GroupNamesWithTerminators))]
    public void GroupNamesIsValid_NameWithLineTerminator_IsFalse(string name) => Assert.False(GroupNames.IsValid(name));

    [Theory]
    [MemberData(nameof(PatternsWithTerminators))]
    public void GroupNamesIsValidPattern_PatternWithLineTerminator_IsFalse(string pattern) => Assert.False(GroupNames.IsValidPattern(pattern));

    [Fact]
    public void GroupNamesIsValid_TheSameNamesWithoutTerminators_AreTrue()
    {
        Assert.True(GroupNames.IsValid("general"));
        Assert.True(GroupNames.IsValidPattern("team-*"));
    }

    [Theory]
    [MemberData(nameof(UserNamesWithTerminators))]
    public void UserDirectoryValidator_UserNameWithLineTerminator_FailsNamingTheKey(string name)
    {
        var result = ValidateUser(name, ["general"]);

        Assert.True(result.Failed);
        Assert.Contains("SignalRSecure:Users:0:Name", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PatternsWithTerminators))]
    public void UserDirectoryValidator_GroupPatternWithLineTerminator_FailsNamingTheKey(string pattern)
    {
        var result = ValidateUser("mallory", ["general", pattern]);

        Assert.True(result.Failed);
        Assert.Contains("SignalRSecure:Users:0:Groups:1", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void UserDirectoryValidator_PlainUser_Succeeds() => Assert.True(ValidateUser("mallory", ["team-*"]).Succeeded);

    [Theory]
    [MemberData(nameof(OriginsWithTerminators))]
    [InlineData("https://app.exa\u2028mple.com")]
    [InlineData("https://app.example.com:443\n")]
    [InlineData("https://app.exa\u200Bmple.com")]
    [InlineData("https://app.exa\u00ADmple.com")]
    public void OriginPolicyTryNormalize_OriginWithLineTerminatorOrInvisibleCharacter_IsFalse(string origin) =>
        Assert.False(OriginPolicy.TryNormalize(origin, out _));

    [Theory]
    [MemberData(nameof(OriginsWithTerminators))]
    public void ProtectionValidator_AllowedOriginWithLineTerminator_FailsNamingTheKey(string origin)
    {
        var result = new ProtectionOptionsValidator().Validate(null, new ProtectionOptions { AllowedOrigins = ["https://ok.example", origin] });

        Assert.True(result.Failed);
        Assert.Contains("SignalRSecure:Protection:AllowedOrigins:1", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(OriginsWithTerminators))]
    public void OriginPolicyIsAllowed_AllowedOriginHeaderWithLineTerminator_IsRefusedAndHasNoRequestOrigin(string origin)
    {
        var policy = new OriginPolicy(Options.Create(new ProtectionOptions { AllowedOrigins = ["https://app.example.com"] }));
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("chat.example.com");
        context.Request.Headers.Origin = origin;

        Assert.False(policy.IsAllowed(context.Request));
        Assert.Null(OriginPolicy.RequestOrigin(context.Request));
    }

    [Fact]
    public void OriginPolicyIsAllowed_OwnOriginWithTrailingLineFeed_IsRefused()
    {
        var policy = new OriginPolicy(Options.Create(new ProtectionOptions()));
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("chat.example.com");
        context.Request.Headers.Origin = "https://chat.example.com\n";

        Assert.False(policy.IsAllowed(context.Request));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" ")]
    [InlineData("\t")]
    public void PasswordHasherTryParse_HashWithWhitespaceAfterOrInside_IsFalse(string whitespace)
    {
        var encoded = PasswordHasher.Hash("pw", iterations: 1_000);
        var inside = encoded.Insert(encoded.LastIndexOf('$') + 3, whitespace);

        Assert.True(PasswordHasher.TryParse(encoded, out _));
        Assert.False(PasswordHasher.TryParse(encoded + whitespace, out _));
        Assert.False(PasswordHasher.TryParse(inside, out _));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" ")]
    [InlineData("\u0085")]
    public void TicketValidator_IssuerKeyWithWhitespace_FailsNamingTheKey(string whitespace)
    {
        var key = new string('k', TicketOptions.MinimumIssuerKeyLength);

        Assert.True(new TicketOptionsValidator().Validate(null, new TicketOptions { IssuerKey = key }).Succeeded);
        var result = new TicketOptionsValidator().Validate(null, new TicketOptions { IssuerKey = key + whitespace });
        Assert.True(result.Failed);
        Assert.Contains("SignalRSecure:Tickets:IssuerKey", result.FailureMessage, StringComparison.Ordinal);
    }

    private static ValidateOptionsResult ValidateUser(string name, List<string> groups) =>
        new UserDirectoryOptionsValidator().Validate(null, new UserDirectoryOptions
        {
            Users = [new UserAccount { Name = name, PasswordHash = PasswordHasher.Hash("pw", iterations: 1_000), Groups = groups }],
        });
}
