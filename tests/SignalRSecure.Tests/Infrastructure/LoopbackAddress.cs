using System.Net;
using System.Net.Sockets;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>Connections from another loopback address (127.0.0.2, ...), to test per-IP binding and limits.</summary>
public static class LoopbackAddress
{
    public static readonly IPAddress Second = IPAddress.Parse("127.0.0.2");

    /// <summary>A handler whose connections leave from <paramref name="local"/>.</summary>
    public static SocketsHttpHandler HandlerFrom(IPAddress local, CookieContainer? cookies = null) => new()
    {
        UseCookies = cookies is not null,
        CookieContainer = cookies ?? new CookieContainer(),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
