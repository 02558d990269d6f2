using Microsoft.AspNetCore.Http;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.Tests.Unit;

/// <summary>The login session cookie's name and attributes, and the session a request's cookie names.</summary>
public sealed class SessionCookieTests
{
    [Theory]
    [InlineData(false, "SignalRSecure")]
    [InlineData(true, "__Host-SignalRSecure")]
    public void Name_ByScheme_HostPrefixOnlyUnderHttps(bool https, string expected)
    {
        var context = HttpContexts.Request(https: https);

        Assert.Equal(expected, SessionCookie.Name(context.Request));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Options_AnyScheme_HttpOnlyStrictWholeSiteAndSecureUnderHttps(bool https)
    {
        var context = HttpContexts.Request(https: https);
        var expiresAt = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero);

        var options = SessionCookie.Options(context.Request, expiresAt);

        Assert.True(options.HttpOnly);
        Assert.Equal(SameSiteMode.Strict, options.SameSite);
        Assert.Equal(https, options.Secure);
        Assert.Equal("/", options.Path);
        Assert.Equal(expiresAt, options.Expires);
        Assert.True(options.IsEssential);
        Assert.Null(SessionCookie.Options(context.Request, expiresAt: null).Expires);
    }

    [Fact]
    public async Task FindAsync_CookieOfALiveSession_ReturnsItLookedUpByTheHash()
    {
        // Arrange
        var sessions = new RecordingSessionStore();
        var sessionId = SecretToken.Create();
        var session = new LoginSession(SecretToken.Hash(sessionId), "alice", ["general"], DateTimeOffset.MaxValue);
        await sessions.AddAsync(session);
        var context = HttpContexts.Request(https: true);
        context.Request.Headers.Cookie = $"SignalRSecure=wrong; __Host-SignalRSecure={sessionId}";

        // Act
        var found = await SessionCookie.FindAsync(context, sessions).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Assert: the store only ever sees the hash.
        Assert.Same(session, found);
        Assert.Equal(["Add alice", $"Get {SecretToken.Hash(sessionId)}"], sessions.Calls);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-session-id")]
    public async Task FindAsync_MissingOrMalformedCookie_IsNullWithoutAskingTheStore(string? cookie)
    {
        var sessions = new RecordingSessionStore();
        var context = HttpContexts.Request();
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = $"SignalRSecure={cookie}";
        }

        var found = await SessionCookie.FindAsync(context, sessions).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Null(found);
        Assert.Empty(sessions.Calls);
    }

    [Fact]
    public async Task FindAsync_PlainCookieNameUnderHttps_IsNotRead()
    {
        var sessions = new RecordingSessionStore();
        var sessionId = SecretToken.Create();
        await sessions.AddAsync(new LoginSession(SecretToken.Hash(sessionId), "alice", [], DateTimeOffset.MaxValue));
        var context = HttpContexts.Request(https: true);
        context.Request.Headers.Cookie = $"SignalRSecure={sessionId}";

        var found = await SessionCookie.FindAsync(context, sessions).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Null(found);
    }
}
