using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional.Attacks;

/// <summary>Oversized and trickled HTTP requests at the upgrade: refused or timed out quickly, others unaffected.</summary>
[Collection(TimingSensitive.Name)]
public sealed class HttpAbuseTests : IAsyncLifetime
{
    private SecureServer _server = null!;

    public async Task InitializeAsync() => _server = await SecureServer.StartAsync(new Dictionary<string, string?>
    {
        ["SignalRSecure:Protection:RequestHeadersTimeout"] = "00:00:01",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("Sec-WebSocket-Protocol")]
    [InlineData("Sec-WebSocket-Extensions")]
    public async Task Upgrade_With8KilobyteHeaderValue_Gets400(string header)
    {
        var response = await SendRawAsync(UpgradeRequest($"{header}: {new string('a', 8 * 1024)}\r\n"));

        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        await AssertEchoWorksAsync();
    }

    [Fact]
    public async Task Upgrade_WithThousandsOfHeaders_Gets431()
    {
        var headers = new StringBuilder();
        for (var i = 0; i < 3_000; i++)
        {
            headers.Append(CultureInvariant($"X-Filler-{i}: {i}\r\n"));
        }

        var response = await SendRawAsync(UpgradeRequest(headers.ToString()));

        Assert.StartsWith("HTTP/1.1 431", response, StringComparison.Ordinal);
        await AssertEchoWorksAsync();
    }

    [Fact]
    public async Task Upgrade_TrickledByteByByte_IsCutOffByTheHeaderTimeout()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.BaseAddress.Port);
        var stream = client.GetStream();
        var request = Encoding.ASCII.GetBytes(UpgradeRequest(string.Empty));
        var clock = Stopwatch.StartNew();
        var cutOff = false;
        using var pacing = new PeriodicTimer(TimeSpan.FromMilliseconds(100));

        for (var i = 0; i < request.Length && clock.Elapsed < TimeSpan.FromSeconds(10); i++)
        {
            try
            {
                await stream.WriteAsync(request.AsMemory(i, 1));
                if (client.Client.Poll(0, SelectMode.SelectRead) && client.Available == 0)
                {
                    cutOff = true;
                    break;
                }
            }
            catch (IOException)
            {
                cutOff = true;
                break;
            }

            await pacing.WaitForNextTickAsync();
        }

        Assert.True(cutOff, "the trickled request was never cut off");
        // A 1 s timeout, checked by Kestrel's once-a-second heartbeat, noticed here on the next paced write.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        await AssertEchoWorksAsync();
    }

    private async Task AssertEchoWorksAsync()
    {
        await using var socket = await RawHubSocket.ConnectWithHandshakeAsync(_server.WebSocketHubUri);
        await socket.CallAsync(nameof(IChatHub.Authenticate), await _server.GetTicketAsync(SecureServer.Alice));
        var (echo, _) = await socket.CallAsync(nameof(IChatHub.Echo), "ok");
        Assert.Equal("ok", echo!.Value.GetString());
    }

    private string UpgradeRequest(string extraHeaders) =>
        $"GET {ChatEndpoints.Hub} HTTP/1.1\r\nHost: {_server.BaseAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extraHeaders}\r\n";

    private async Task<string> SendRawAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _server.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
