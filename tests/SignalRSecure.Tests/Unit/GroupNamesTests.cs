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
    public void IsAllowed_Pattern_MatchesGlob(string pattern, string group, bool expected) =>
        Assert.Equal(expected, GroupNames.IsAllowed([pattern], group));
}
