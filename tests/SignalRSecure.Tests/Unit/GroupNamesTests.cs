using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Server.Chat;

namespace SignalRSecure.Tests.Unit;

public sealed class GroupNamesTests
{
    [Theory]
    [InlineData("general")]
    [InlineData("team-blue_2.0")]
    [InlineData("a")]
    public void IsValid_PlainName_IsTrue(string name) => Assert.True(GroupNames.IsValid(name));

    public static TheoryData<string?> InvalidNames => new()
    {
        null,
        string.Empty,
        new string('a', 65),
        new string('a', 10_000),
        "two words",
        "line\r\nbreak",
        "nul\0byte",
        "bidi\u202Eoverride",
        "zero\u200Bwidth",
        "emoji😀",
        "colon:name",
        "signalrsecure:authenticated",
        "star*",
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void IsValid_HostileName_IsFalse(string? name) => Assert.False(GroupNames.IsValid(name));

    [Theory]
    [InlineData("team-*", "team-blue", true)]
    [InlineData("team-*", "team-", true)]
    [InlineData("team-*", "teams", false)]
    [InlineData("*-ops", "east-ops", true)]
    [InlineData("*-ops", "east-opsx", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "acb", false)]
    [InlineData("*", "anything", true)]
    [InlineData("general", "general", true)]
    [InlineData("general", "General", false)]
    [InlineData("ab*ba", "aba", false)]
    [InlineData("a*b*c", "aXXc", false)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "ac", false)]
    [InlineData("a*b*c", "abbc", true)]
    [InlineData("a*b*c", "acbc", true)]
    [InlineData("a*b*c", "abXc", true)]
    [InlineData("a*bc*c", "abc", false)]
    [InlineData("a*b*c", "aXbc", true)]
    [InlineData("a*bb*c", "abXbc", false)]
    [InlineData("a*b*b*c", "abc", false)]
    [InlineData("a*b*b*c", "abbc", true)]
    [InlineData("a*c*b*d", "abcd", false)]
    [InlineData("a*c*b*d", "acbd", true)]
    [InlineData("x*b*", "xyz", false)]
    [InlineData("*b*", "abc", true)]
    [InlineData("*b*", "ac", false)]
    [InlineData("*b*", "bob", true)]
    [InlineData("*ops*", "ops-east", true)]
    [InlineData("a**c", "ac", true)]
    public void IsAllowed_Pattern_MatchesGlob(string pattern, string group, bool expected) =>
        Assert.Equal(expected, GroupNames.IsAllowed([pattern], group));

    [Fact]
    public void IsAllowed_SeveralPatterns_AllowsWhatAnyOfThemAllows()
    {
        Assert.True(GroupNames.IsAllowed(["ops", "team-*"], "team-blue"));
        Assert.True(GroupNames.IsAllowed(["team-*", "ops"], "ops"));
        Assert.False(GroupNames.IsAllowed(["ops", "team-*"], "general"));
        Assert.False(GroupNames.IsAllowed([], "general"));
    }

    [Theory]
    [InlineData("team-*", true)]
    [InlineData("*", true)]
    [InlineData("a*b*c", true)]
    [InlineData("general", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("team-*\n", false)]
    [InlineData("team *", false)]
    public void IsValidPattern_Pattern_IsWholeStringOfNameCharactersAndStars(string? pattern, bool expected) =>
        Assert.Equal(expected, GroupNames.IsValidPattern(pattern));
}
