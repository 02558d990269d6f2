using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.SignalR;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.AspNetCore.Groups;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Server.Chat;

namespace SignalRSecure.Tests.Unit;

public sealed class SecureHubFilterTests : IDisposable
{
    private readonly GateTestbed _testbed = new(new SecureHubOptions { InvocationsPerSecond = 2, InvocationBurst = 3, RateLimitStrikesBeforeClose = 2 });
    private readonly SecureHubFilter _filter = new(Microsoft.Extensions.Logging.Abstractions.NullLogger<SecureHubFilter>.Instance);
    private int _executed;

    [Theory]
    [InlineData(nameof(IChatHub.Echo))]
    [InlineData(nameof(IChatHub.Reauthenticate))]
    [InlineData(nameof(IChatHub.JoinGroup))]
    public async Task Invoke_BeforeAuthenticate_ThrowsAuthenticationRequiredAndCloses(string method)
    {
        var connection = _testbed.Open();

        var error = await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, method));

        Assert.Equal(HubErrors.AuthenticationRequired, error.Message);
        Assert.Equal(CloseReasons.AuthenticationRequired, connection.Gate.CloseReason);
        Assert.Equal(0, _executed);
    }

    [Fact]
    public async Task Invoke_AuthenticateLetThroughByTheReader_Runs()
    {
        var connection = _testbed.Open();
        Assert.True(connection.Gate.TryBeginAuthentication());

        await InvokeAsync(connection, nameof(IChatHub.Authenticate));

        Assert.Equal(1, _executed);
    }

    [Fact]
    public async Task Invoke_AuthenticateNotLetThroughByTheReader_IsRefused()
    {
        var connection = _testbed.Open();

        await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Authenticate)));

        Assert.Equal(0, _executed);
    }

    [Fact]
    public async Task Invoke_OverTheRate_ThrowsRateLimitedWithoutRunning()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        for (var i = 0; i < 3; i++)
        {
            await InvokeAsync(connection, nameof(IChatHub.Echo));
        }

        var error = await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Echo)));

        Assert.Equal(HubErrors.RateLimited, error.Message);
        Assert.Equal(3, _executed);
        Assert.True(connection.Gate.IsAuthenticated);
    }

    [Fact]
    public async Task Invoke_OverTheConnectionsRate_IsLoggedAndCountedAsTheConnectionsLimit()
    {
        using var rejections = new RateLimitRejections(_testbed.MeterFactory);
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        for (var i = 0; i < 3; i++)
        {
            await InvokeAsync(connection, nameof(IChatHub.Echo));
        }

        await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Echo)));

        Assert.Equal(1, rejections.Of("invocation"));
        Assert.Equal(1, rejections.Total);
        Assert.Single(_testbed.Logs.WithEvent("InvocationRateLimited"));
        Assert.Empty(_testbed.Logs.WithEvent("UserInvocationRateLimited"));
    }

    [Fact]
    public async Task Invoke_OverTheUsersBudgetWithinTheConnectionsRate_IsLoggedAndCountedAsTheUsersLimit()
    {
        // Arrange: a user budget of 3, as large as one connection's burst; the user's other connection spent 2 of it.
        using var testbed = new GateTestbed(new SecureHubOptions { InvocationsPerSecond = 2, InvocationBurst = 3, UserInvocationsPerSecond = 2, UserInvocationBurst = 3 });
        using var rejections = new RateLimitRejections(testbed.MeterFactory);
        var other = testbed.Open();
        await testbed.AuthenticateAsync(other);
        var connection = testbed.Open();
        await testbed.AuthenticateAsync(connection);
        await InvokeAsync(other, nameof(IChatHub.Echo));
        await InvokeAsync(other, nameof(IChatHub.Echo));
        await InvokeAsync(connection, nameof(IChatHub.Echo));

        // Act: the connection is within its own rate, its user is not.
        var error = await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Echo)));

        // Assert
        Assert.Equal(HubErrors.RateLimited, error.Message);
        Assert.Equal(3, _executed);
        Assert.Equal(1, rejections.Of("user-invocation"));
        Assert.Equal(1, rejections.Total);
        Assert.Single(testbed.Logs.WithEvent("UserInvocationRateLimited"));
        Assert.Empty(testbed.Logs.WithEvent("InvocationRateLimited"));
    }

    [Fact]
    public async Task Invoke_RepeatedAbuse_ClosesWithRateLimited()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        for (var i = 0; i < 3; i++)
        {
            await InvokeAsync(connection, nameof(IChatHub.Echo));
        }

        for (var strike = 0; strike < 3; strike++)
        {
            await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Echo)));
        }

        Assert.Equal(CloseReasons.RateLimited, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Invoke_OnAConnectionClosingForRateLimiting_AnswersWithTheCloseReason()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        connection.Gate.CloseAfterReply(CloseReasons.RateLimited);

        var error = await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Echo)));

        Assert.Equal(HubErrors.RateLimited, error.Message);
        Assert.Equal(0, _executed);
    }

    [Fact]
    public async Task Invoke_AfterTheBucketRefills_RunsAgain()
    {
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        for (var i = 0; i < 3; i++)
        {
            await InvokeAsync(connection, nameof(IChatHub.Echo));
        }

        await Assert.ThrowsAsync<HubException>(() => InvokeAsync(connection, nameof(IChatHub.Echo)));
        _testbed.Time.Advance(TimeSpan.FromSeconds(1));
        await InvokeAsync(connection, nameof(IChatHub.Echo));

        Assert.Equal(4, _executed);
    }

    [Fact]
    public async Task Invoke_HubMethodThrowsUnexpectedly_LogsOneErrorAndRethrows()
    {
        var (filter, logs, context) = await LoggingFilterForEchoAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await filter.InvokeMethodAsync(context, _ => throw new InvalidOperationException("boom")));

        var record = Assert.Single(logs.WithEvent("HubMethodFailed"));
        Assert.Equal(LogLevel.Error, record.Level);
        Assert.Contains(nameof(IChatHub.Echo), record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_HubMethodThrowsHubException_LogsNothing()
    {
        var (filter, logs, context) = await LoggingFilterForEchoAsync();

        await Assert.ThrowsAsync<HubException>(async () => await filter.InvokeMethodAsync(context, _ => throw new HubException(HubErrors.Forbidden)));

        Assert.Empty(logs.Records);
    }

    public void Dispose() => _testbed.Dispose();

    private async Task InvokeAsync(TestConnection connection, string method)
    {
        var context = HubInvocations.For<ChatHub>(new FakeCallerContext(connection.Gate, connection.Context.ConnectionId), new NullHub(), method, "x");
        await _filter.InvokeMethodAsync(context, _ =>
        {
            _executed++;
            return ValueTask.FromResult<object?>(null);
        });
    }

    private async Task<(SecureHubFilter Filter, Infrastructure.CapturedLogs Logs, HubInvocationContext Context)> LoggingFilterForEchoAsync()
    {
        var logs = new Infrastructure.CapturedLogs();
        var filter = new SecureHubFilter(new Logger<SecureHubFilter>(new LoggerFactory([logs])));
        var connection = _testbed.Open();
        await _testbed.AuthenticateAsync(connection);
        var context = HubInvocations.For<ChatHub>(new FakeCallerContext(connection.Gate, connection.Context.ConnectionId), new NullHub(), nameof(IChatHub.Echo), "x");
        return (filter, logs, context);
    }

    private sealed class NullHub : Hub;
}
