using Microsoft.Extensions.Logging;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// Outside Development, a server whose public host nothing pins (AllowedHosts '*', no allowed origins) says so at
/// start-up: any Host header then counts as its own origin, which a DNS-rebinding page exploits.
/// </summary>
public sealed class PublicHostWarningTests
{
    private const string EventName = "PublicHostNotPinned";

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task Start_OutsideDevelopmentWithAllowedHostsStar_LogsOneWarning(string environment)
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["AllowedHosts"] = "*" }, environment: environment);

        var warning = Assert.Single(server.Logs.WithEvent(EventName));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("AllowedHosts", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_OutsideDevelopmentWithAllowedHostsUnset_LogsTheWarning()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["AllowedHosts"] = null }, environment: "Production");

        Assert.Single(server.Logs.WithEvent(EventName));
    }

    [Fact]
    public async Task Start_InDevelopment_DoesNotWarn()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["AllowedHosts"] = "*" }, environment: "Development");

        Assert.Empty(server.Logs.WithEvent(EventName));
    }

    [Theory]
    [InlineData("AllowedHosts", "chat.example.com")]
    [InlineData("AllowedHosts", "chat.example.com;127.0.0.1")]
    [InlineData("SignalRSecure:Protection:AllowedOrigins:0", "https://chat.example.com")]
    public async Task Start_WithThePublicHostPinned_DoesNotWarn(string key, string value)
    {
        await using var server = await SecureServer.StartAsync(
            new Dictionary<string, string?> { ["AllowedHosts"] = "*", [key] = value }, environment: "Production");

        Assert.Empty(server.Logs.WithEvent(EventName));
    }

    [Fact]
    public async Task Request_WithAnotherHostOnceAllowedHostsIsPinned_Returns400()
    {
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["AllowedHosts"] = "chat.example.com" });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var rebound = new HttpRequestMessage(HttpMethod.Get, SignalRSecure.Contracts.SecureEndpoints.Health);
        rebound.Headers.Host = "attacker.example";
        using var pinned = new HttpRequestMessage(HttpMethod.Get, SignalRSecure.Contracts.SecureEndpoints.Health);
        pinned.Headers.Host = "chat.example.com";

        using var reboundResponse = await http.SendAsync(rebound);
        using var pinnedResponse = await http.SendAsync(pinned);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, reboundResponse.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, pinnedResponse.StatusCode);
    }
}
