using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace SignalRSecure.Bench.Servers.Raw;

/// <summary>
/// Variant C, the physical limit of this stack: Kestrel's WebSockets with no protocol on top. <c>/echo</c> sends
/// every message back; <c>/broadcast</c> sends every message to every other connection of <c>/broadcast</c>, then
/// back to its sender (its acknowledgement).
/// </summary>
internal static class RawWebSockets
{
    // Large enough for every frame the load generator sends; bigger messages are refused.
    private const int BufferSize = 4096;

    public static void MapRawWebSockets(this IEndpointRouteBuilder endpoints)
    {
        endpoints.Map("/echo", context => RunAsync(context, null));
        endpoints.Map("/broadcast", context => RunAsync(context, context.RequestServices.GetRequiredService<RawBroadcaster>()));
    }

    private static async Task RunAsync(HttpContext context, RawBroadcaster? broadcaster)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var peer = new RawPeer(socket);
        broadcaster?.Add(peer);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);

                if (result.MessageType == WebSocketMessageType.Close || !result.EndOfMessage)
                {
                    break;
                }

                var message = buffer.AsMemory(0, length);
                if (broadcaster is null)
                {
                    await peer.SendAsync(message, context.RequestAborted);
                }
                else
                {
                    await broadcaster.SendAsync(peer, message, context.RequestAborted);
                }
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away: nothing to clean up beyond the finally.
        }
        finally
        {
            broadcaster?.Remove(peer);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>One raw connection; sends are serialized because a WebSocket allows one at a time.</summary>
internal sealed class RawPeer(WebSocket socket)
{
    private readonly SemaphoreSlim _sending = new(1, 1);

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sending.Release();
        }
    }
}

/// <summary>The connections of <c>/broadcast</c>.</summary>
internal sealed class RawBroadcaster
{
    private readonly ConcurrentDictionary<RawPeer, byte> _peers = new();

    public void Add(RawPeer peer) => _peers[peer] = 0;

    public void Remove(RawPeer peer) => _peers.TryRemove(peer, out _);

    public async ValueTask SendAsync(RawPeer sender, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        foreach (var peer in _peers.Keys)
        {
            if (peer != sender)
            {
                try
                {
                    await peer.SendAsync(message, cancellationToken);
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
                {
                    // That receiver is closing; the others still get the message.
                }
            }
        }

        await sender.SendAsync(message, cancellationToken);
    }
}
