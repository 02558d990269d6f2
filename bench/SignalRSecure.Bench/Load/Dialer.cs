using System.Net;
using System.Net.Sockets;

namespace SignalRSecure.Bench.Load;

/// <summary>
/// Spreads client connections over several loopback source addresses (127.0.0.2, 127.0.0.3, ...), each with its
/// own range of ephemeral ports, so that tens of thousands of connections and connection churn never run out of
/// ports. Every connection is still to a server on 127.0.0.1.
/// </summary>
internal sealed class Dialer : IDisposable
{
    private readonly HttpMessageInvoker[] _invokers;
    private int _next = -1;

    public Dialer(int addresses = 8)
    {
        _invokers = new HttpMessageInvoker[addresses];
        for (var i = 0; i < addresses; i++)
        {
            _invokers[i] = new HttpMessageInvoker(CreateHandler(IPAddress.Parse($"127.0.0.{i + 2}")));
        }
    }


    /// <summary>The invoker of the next source address, round robin.</summary>
    public HttpMessageInvoker Next() => _invokers[(int)((uint)Interlocked.Increment(ref _next) % (uint)_invokers.Length)];

    public void Dispose()
    {
        foreach (var invoker in _invokers)
        {
            invoker.Dispose();
        }
    }

    /// <summary>A handler whose connections leave from <paramref name="source"/>.</summary>
    public static SocketsHttpHandler CreateHandler(IPAddress source) => new()
    {
        UseCookies = false,
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
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
