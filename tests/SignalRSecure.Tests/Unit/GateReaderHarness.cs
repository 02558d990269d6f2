using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.SignalR.Protocol;
using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// A gate reader on a <see cref="GateTestbed"/> connection, with the reads, writes and checks the reader's tests share:
/// what SignalR does with a read that ends, and whether the transport's reader is left in a state it can go on from.
/// </summary>
internal static class GateReaderHarness
{
    public const byte Separator = 0x1e;

    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    /// <summary>A JSON ping, separator included.</summary>
    public static byte[] Ping => [.. Encoding.UTF8.GetBytes("""{"type":6}"""), Separator];

    public static (TestConnection Connection, GateReader Reader) Open(GateTestbed testbed, bool handshakeDone = true, IHubProtocol? protocol = null)
    {
        var connection = testbed.Open(handshakeDone, protocol: protocol);
        return (connection, new GateReader(connection.Context.Transport.Input, connection.Gate, testbed.Options));
    }

    public static async Task<(TestConnection Connection, GateReader Reader)> OpenAuthenticatedAsync(GateTestbed testbed, IHubProtocol? protocol = null)
    {
        var (connection, reader) = Open(testbed, protocol: protocol);
        await testbed.AuthenticateAsync(connection);
        Assert.True(connection.Gate.IsAuthenticated);
        return (connection, reader);
    }

    public static Task SendFrameAsync(TestConnection connection, string json) => SendAsync(connection, [.. Encoding.UTF8.GetBytes(json), Separator]);

    public static async Task SendAsync(TestConnection connection, byte[] bytes) =>
        await connection.Context.Application!.Output.WriteAsync(bytes).AsTask().WaitAsync(WaitLimit);

    public static async Task<ReadResult> ReadAsync(PipeReader reader) => await reader.ReadAsync().AsTask().WaitAsync(WaitLimit);

    /// <summary><paramref name="length"/> bytes of a ping frame padded with an unknown property, separator excluded.</summary>
    public static byte[] PaddedPing(int length)
    {
        const string start = "{\"type\":6,\"pad\":\"";
        const string end = "\"}";
        return Encoding.UTF8.GetBytes(start + new string('x', length - start.Length - end.Length) + end);
    }

    /// <summary>
    /// Asserts that <paramref name="result"/> ends SignalR's read loop the ordinary way (completed, not canceled, empty), and
    /// advances past it as SignalR does in its <c>finally</c>: the reader must take that advance without touching the
    /// transport again.
    /// </summary>
    public static void AssertEnd(GateReader reader, ReadResult result)
    {
        Assert.True(result.IsCompleted);
        Assert.False(result.IsCanceled);
        Assert.True(result.Buffer.IsEmpty);
        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
    }

    /// <summary>
    /// Asserts that every read the gate reader took from the transport was advanced: a transport's reader left in the
    /// middle of a read refuses the next read, and so does this check.
    /// </summary>
    public static void AssertTransportBetweenReads(TestConnection connection)
    {
        var transport = connection.Context.Transport.Input;
        if (transport.TryRead(out var result))
        {
            transport.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
        }
    }
}
