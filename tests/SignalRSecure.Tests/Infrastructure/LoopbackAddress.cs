using System.Net;
using System.Net.Sockets;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>Connections from another loopback address (127.0.0.2, ...), to test per-IP binding and limits.</summary>
public static class LoopbackAddress
{
    public static readonly IPAddress Second = IPAddress.Parse("127.0.0.2");

    /// <summary>A handler whose connections leave from <paramref name="local"/>, shaped by <paramref name="control"/>.</summary>
    public static SocketsHttpHandler HandlerFrom(IPAddress local, CookieContainer? cookies = null, SocketControl? control = null) => new()
    {
        UseCookies = cookies is not null,
        CookieContainer = cookies ?? new CookieContainer(),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                control?.Attach(socket);
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

/// <summary>Low-level control of a test client's TCP socket: a tiny receive buffer, or a hard reset.</summary>
public sealed class SocketControl(int? receiveBufferSize = null)
{
    private Socket? _socket;

    internal void Attach(Socket socket)
    {
        _socket = socket;
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size;
        }
    }

    /// <summary>Drops the connection with a TCP RST, as a crashed client or a broken network would.</summary>
    public void Reset()
    {
        var socket = _socket ?? throw new InvalidOperationException("Not connected.");
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }
}
