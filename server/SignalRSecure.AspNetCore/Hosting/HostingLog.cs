using Microsoft.Extensions.Logging;

namespace SignalRSecure.AspNetCore.Hosting;

/// <summary>Log events about how the server is set up, written once at start-up.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 301, EventName = "PublicHostNotPinned", Level = LogLevel.Warning,
        Message = "No public host is pinned: AllowedHosts is '*' and SignalRSecure:Protection:AllowedOrigins is empty, so "
            + "any Host header counts as this server's own origin and a DNS-rebinding page passes the same-origin check. "
            + "Set AllowedHosts to the public host name, such as chat.example.com")]
    public static partial void PublicHostNotPinned(ILogger logger);
}
