using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SignalRSecure.AspNetCore.Accounts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>An auth endpoint whose store fails answers 503 with Retry-After and a generic error, never the store's text.</summary>
public sealed class StoreFailureFilterTests
{
    private const string StoreError = "redis-0.internal:6379 timed out";

    [Fact]
    public async Task InvokeAsync_StoreThrows_Answers503RetryAfterUnavailableAndLogsTheErrorOnly()
    {
        // Arrange
        var logs = new CapturedLogs();
        var context = HttpContexts.Request(method: "POST", path: "/auth/ticket", logs: logs);

        // Act
        var result = await StoreFailureFilter.InvokeAsync(
            new DefaultEndpointFilterInvocationContext(context),
            _ => ValueTask.FromException<object?>(new InvalidOperationException(StoreError))).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Same(Results.Empty, result);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        Assert.Equal(HubErrors.Unavailable, context.ResponseError());
        Assert.DoesNotContain("redis", context.ResponseText(), StringComparison.Ordinal);
        var logged = Assert.Single(logs.WithEvent("StoreFailed"));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(StoreError, logged.Exception?.Message);
        Assert.Contains(IPAddress.Parse("203.0.113.7").ToString(), logged.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(StoreError, logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_EndpointSucceeds_ReturnsItsResultUntouched()
    {
        var context = HttpContexts.Request(method: "POST");
        var answer = new object();

        var result = await StoreFailureFilter.InvokeAsync(new DefaultEndpointFilterInvocationContext(context), _ => ValueTask.FromResult<object?>(answer))
            .AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Same(answer, result);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
        Assert.Equal(string.Empty, context.ResponseText());
    }

    [Fact]
    public async Task InvokeAsync_ClientGone_LetsTheExceptionThrough()
    {
        var logs = new CapturedLogs();
        var context = HttpContexts.Request(method: "POST", logs: logs);
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();
        context.RequestAborted = aborted.Token;

        await Assert.ThrowsAsync<OperationCanceledException>(() => StoreFailureFilter.InvokeAsync(
            new DefaultEndpointFilterInvocationContext(context),
            _ => ValueTask.FromException<object?>(new OperationCanceledException())).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
        Assert.Empty(logs.WithEvent("StoreFailed"));
    }

    [Fact]
    public async Task InvokeAsync_ResponseAlreadyStarted_LetsTheExceptionThrough()
    {
        var logs = new CapturedLogs();
        var context = HttpContexts.Request(method: "POST", logs: logs);
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>(new StartedResponse());

        await Assert.ThrowsAsync<InvalidOperationException>(() => StoreFailureFilter.InvokeAsync(
            new DefaultEndpointFilterInvocationContext(context),
            _ => ValueTask.FromException<object?>(new InvalidOperationException(StoreError))).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
        Assert.Empty(logs.WithEvent("StoreFailed"));
    }

    private sealed class StartedResponse : Microsoft.AspNetCore.Http.Features.HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}
