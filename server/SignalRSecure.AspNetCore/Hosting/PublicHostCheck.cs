using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.AspNetCore.Hosting;

/// <summary>
/// Warns at start-up, outside Development, when nothing pins the server's public host name. The origin check takes
/// <c>scheme://Host</c> as the server's own origin; with <c>AllowedHosts</c> at <c>*</c> a page on an attacker's name
/// that resolves to this server (DNS rebinding) sends a matching <c>Origin</c> and <c>Host</c>, and passes.
/// </summary>
internal sealed class PublicHostCheck(
    IHostEnvironment environment,
    IOptions<HostFilteringOptions> hostFiltering,
    IOptions<ProtectionOptions> protection,
    ILogger<PublicHostCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment() && !IsPinned(hostFiltering.Value, protection.Value))
        {
            HostingLog.PublicHostNotPinned(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Whether <c>AllowedHosts</c> lists host names (none of them <c>*</c>; an unset list means every host, as the
    /// web host reads it) or <see cref="ProtectionOptions.AllowedOrigins"/> names the origins to trust.
    /// </summary>
    internal static bool IsPinned(HostFilteringOptions hosts, ProtectionOptions protection) =>
        (hosts.AllowedHosts.Count > 0 && !hosts.AllowedHosts.Any(host => host.Trim() == "*"))
        || protection.AllowedOrigins.Count > 0;
}
