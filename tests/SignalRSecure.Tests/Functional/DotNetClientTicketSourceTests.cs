using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Client;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class DotNetClientTicketSourceTests
{
    private static readonly TimeSpan Timeout = DotNetClientHarness.Timeout;

    [Fact]
    public async Task SignInAsync_WrongPassword_ThrowsInvalidCredentialsWithoutThePassword()
    {
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);

        var error = await Assert.ThrowsAsync<AuthRequestException>(() => tickets.SignInAsync("alice", "wrong-password-123").WaitAsync(Timeout));

        Assert.Equal((AuthRequestFailure.InvalidCredentials, HttpStatusCode.Unauthorized), (error.Failure, error.StatusCode));
        Assert.False(error.IsRetryable);
        Assert.DoesNotContain("wrong-password-123", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTicketAsync_WithoutSignIn_ThrowsNotSignedIn()
    {
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);

        var error = await Assert.ThrowsAsync<AuthRequestException>(() => tickets.GetTicketAsync().WaitAsync(Timeout));

        Assert.Equal(AuthRequestFailure.NotSignedIn, error.Failure);
    }

    [Fact]
    public async Task SignInAsync_OverTheLoginLimit_ThrowsRateLimitedWithRetryAfter()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Login:AttemptsPerUser"] = "1" });
        using var tickets = new CookieTicketSource(server.BaseAddress);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<AuthRequestException>(() => tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout));

        Assert.Equal((AuthRequestFailure.RateLimited, HttpStatusCode.TooManyRequests), (error.Failure, error.StatusCode));
        Assert.True(error.IsRetryable);
        Assert.True(error.RetryAfter > TimeSpan.Zero);
        Assert.DoesNotContain(SecureServer.Alice.Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignInAsync_WhileEveryVerificationIsBusy_ThrowsServerBusyWithRetryAfter()
    {
        // One verification thread, no queue, and an app's own directory that holds it: the budget bounds it too.
        var directory = new HeldUserDirectory();
        await using var server = await SecureServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["SignalRSecure:Login:MaxConcurrentVerifications"] = "1",
                ["SignalRSecure:Login:VerificationQueueLimit"] = "0",
            },
            services => services.AddSingleton<IUserDirectory>(directory));
        using var first = new CookieTicketSource(server.BaseAddress);
        using var second = new CookieTicketSource(server.BaseAddress);
        var held = first.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password);
        await directory.Entered.Task.WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<AuthRequestException>(() => second.SignInAsync(SecureServer.Bob.Name, SecureServer.Bob.Password).WaitAsync(Timeout));

        Assert.Equal((AuthRequestFailure.ServerBusy, HttpStatusCode.ServiceUnavailable), (error.Failure, error.StatusCode));
        Assert.True(error.IsRetryable);
        Assert.True(error.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(SecureServer.Bob.Password, error.ToString(), StringComparison.Ordinal);
        Assert.Single(server.Logs.WithEvent("LoginVerificationRefused"));
        Assert.Equal(1, directory.Calls);
        directory.Release.TrySetResult();
        Assert.Equal(SecureServer.Alice.Name, (await held.WaitAsync(Timeout)).User);
    }

    [Fact]
    public async Task SignInAsync_FromDisallowedOrigin_ThrowsForbidden()
    {
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress, origin: "https://evil.example");

        var error = await Assert.ThrowsAsync<AuthRequestException>(() => tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password).WaitAsync(Timeout));

        Assert.Equal(AuthRequestFailure.Forbidden, error.Failure);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetTicketAsync_WhenTheSessionIsGone_SignsInAgainOnlyWithKeptCredentials(bool keepCredentials)
    {
        // Arrange: the session cookie disappears, as after the server forgot the session.
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);
        await tickets.SignInAsync(SecureServer.Alice.Name, SecureServer.Alice.Password, keepCredentials).WaitAsync(Timeout);
        foreach (Cookie cookie in tickets.Cookies.GetAllCookies())
        {
            cookie.Expired = true;
        }

        // Act
        var attempt = tickets.GetTicketAsync().WaitAsync(Timeout);

        // Assert
        if (keepCredentials)
        {
            Assert.False(string.IsNullOrEmpty(await attempt));
            Assert.Equal(2, server.Logs.WithEvent("LoginSucceeded").Count());
        }
        else
        {
            Assert.Equal(AuthRequestFailure.NotSignedIn, (await Assert.ThrowsAsync<AuthRequestException>(() => attempt)).Failure);
        }
    }

    [Fact]
    public async Task GetTicketAsync_AfterSignIn_ReturnsTicketsTheHubRedeems()
    {
        await using var server = await SecureServer.StartAsync();
        using var tickets = new CookieTicketSource(server.BaseAddress);
        var login = await tickets.SignInAsync(SecureServer.Bob.Name, SecureServer.Bob.Password).WaitAsync(Timeout);
        await using var client = new SecureHubClient(DotNetClientHarness.Options(server), tickets.GetTicketAsync);

        var authentication = await client.ConnectAsync().WaitAsync(Timeout);

        Assert.Equal("bob", login.User);
        Assert.Equal("bob", authentication.User);
    }

    /// <summary>A directory of an app's own that holds each verification until released.</summary>
    private sealed class HeldUserDirectory : IUserDirectory
    {
        private int _calls;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask<UserAccount?> VerifyAsync(string? username, string? password, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            Entered.TrySetResult();
            await Release.Task.WaitAsync(Timeout, cancellationToken);
            return new UserAccount { Name = username!, Groups = ["general"] };
        }
    }
}
