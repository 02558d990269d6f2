using System.Net;
using System.Net.Sockets;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>A TCP port on 127.0.0.1 that nothing listens on, for a process of the test's own (redis-server, nginx, ...).</summary>
public static class FreeLoopbackPort
{
    /// <summary>A port the system just handed out and took back; another process could take it first, which is rare.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
