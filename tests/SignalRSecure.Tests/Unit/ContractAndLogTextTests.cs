using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.Contracts;

namespace SignalRSecure.Tests.Unit;

public sealed class ContractAndLogTextTests
{
    [Theory]
    [InlineData("An unexpected error occurred invoking 'JoinGroup' on the server. HubException: forbidden", HubErrors.Forbidden)]
    [InlineData("not a member", HubErrors.NotAMember)]
    public void HubErrors_TryParse_SignalRWrappedOrBare_ReturnsTheError(string message, string expected)
    {
        Assert.True(HubErrors.TryParse(message, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("An unexpected error occurred invoking 'Echo' on the server.")]
    [InlineData("HubException: something else")]
    public void HubErrors_TryParse_UnknownText_IsFalse(string? message) => Assert.False(HubErrors.TryParse(message, out _));

    [Theory]
    [InlineData("The server closed the connection with the following error: logged out", CloseReasons.LoggedOut, true)]
    [InlineData("Server returned an error on close: session expired", CloseReasons.SessionExpired, false)]
    [InlineData("rate limited", CloseReasons.RateLimited, false)]
    [InlineData("authentication timeout", CloseReasons.AuthenticationTimeout, true)]
    [InlineData("Server returned an error on close: too many connections", CloseReasons.TooManyConnections, true)]
    [InlineData("Server returned an error on close: temporarily unavailable", CloseReasons.Unavailable, false)]
    public void CloseReasons_TryParse_ReturnsReasonAndWhetherTerminal(string message, string reason, bool terminal)
    {
        Assert.True(CloseReasons.TryParse(message, out var parsed));
        Assert.Equal(reason, parsed);
        Assert.Equal(terminal, CloseReasons.IsTerminal(parsed));
    }

    [Fact]
    public void CloseReasons_EveryReasonIsInTheTable()
    {
        string[] reasons =
        [
            CloseReasons.AuthenticationFailed, CloseReasons.AuthenticationRequired, CloseReasons.AuthenticationTimeout,
            CloseReasons.SessionExpired, CloseReasons.LoggedOut, CloseReasons.Revoked, CloseReasons.RateLimited,
            CloseReasons.MessageTooLarge,
            CloseReasons.TooManyConnections,
            CloseReasons.Unavailable,
        ];

        Assert.Equal(reasons.Order(), CloseReasons.IsTerminalByReason.Keys.Order());
    }

    [Theory]
    [InlineData("line\r\nforged: record", "line??forged: record")]
    [InlineData("\u001b[31mred\u001b[0m", "?[31mred?[0m")]
    [InlineData("bidi\u202Eevil", "bidi?evil")]
    [InlineData("{Placeholder}", "{Placeholder}")]
    [InlineData(null, "(none)")]
    public void LogText_Sanitize_ReplacesControlAndFormatCharacters(string? value, string expected) =>
        Assert.Equal(expected, LogText.Sanitize(value));

    [Fact]
    public void LogText_Sanitize_BoundsTheLength() =>
        Assert.Equal(65, LogText.Sanitize(new string('x', 10_000)).Length);
}
