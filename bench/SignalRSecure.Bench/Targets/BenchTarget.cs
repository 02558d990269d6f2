using System.Collections.Concurrent;
using SignalRSecure.Bench.Load;

namespace SignalRSecure.Bench.Targets;

/// <summary>Which endpoint of the raw WebSocket server (C) a link opens.</summary>
internal enum RawEndpoint
{
    Echo,
    Broadcast,
}

/// <summary>
/// A running server as the scenarios see it: where it listens, how a connection gets in (ticket, token or
/// nothing), and, when it runs as a separate process, its <c>/proc</c> statistics and memory probe.
/// </summary>
internal sealed class BenchTarget(ServerKind kind, Uri baseAddress, string issuerKey, string tokenKey, ProcessStats? stats, MemoryProbe? probe)
    : IDisposable
{
    private readonly Credentials _credentials = new(baseAddress, issuerKey);
    private readonly ConcurrentQueue<string> _tokens = new();
    private int _tokenSerial;

    public ServerKind Kind => kind;

    public Uri BaseAddress => baseAddress;

    public ProcessStats? Stats => stats;

    public MemoryProbe? Probe => probe;

    /// <summary>The hub protocol every link of this target speaks (JSON unless a scenario asks for MessagePack).</summary>
    public HubProtocol Protocol { get; init; } = HubProtocol.Json;

    /// <summary>Mints the tickets (G, N) or signs the tokens (B) that <paramref name="connections"/> connections will use.</summary>
    public async Task PrepareAsync(int connections, CancellationToken cancellationToken)
    {
        if (kind.UsesTickets())
        {
            await _credentials.MintAsync(connections, cancellationToken);
        }
        else if (kind == ServerKind.B)
        {
            for (var i = 0; i < connections; i++)
            {
                _tokens.Enqueue(Credentials.CreateToken(tokenKey, Interlocked.Increment(ref _tokenSerial)));
            }
        }
    }

    /// <summary>
    /// Opens a connection the way a client of this server does: WebSocket upgrade (B: with its token in the query),
    /// SignalR handshake, then (G, N) Authenticate with a pre-minted ticket. Returns once it may invoke anything.
    /// <paramref name="authenticateTime"/>, when given, gets the nanoseconds from sending Authenticate to its completion.
    /// </summary>
    public async Task<HubLink> OpenAsync(Dialer dialer, int id, RawEndpoint raw = RawEndpoint.Echo, bool authenticate = true, Histogram? authenticateTime = null)
    {
        var path = kind switch
        {
            ServerKind.C => raw == RawEndpoint.Echo ? "/echo" : "/broadcast",
            ServerKind.B => "/hubs/chat?access_token=" + TakeToken(),
            _ => "/hubs/chat",
        };
        var uri = new Uri(new UriBuilder(baseAddress) { Scheme = "ws" }.Uri, path);
        var link = await HubLink.ConnectAsync(uri, dialer.Next(), id, CancellationToken.None);
        try
        {
            if (kind.SpeaksSignalR())
            {
                await link.HandshakeAsync(Protocol);
            }

            if (kind.UsesTickets() && authenticate)
            {
                var frame = Frames.Authenticate(_credentials.TakeTicket(), Protocol);
                var sentAt = System.Diagnostics.Stopwatch.GetTimestamp();
                await link.InvokeAsync(frame);
                authenticateTime?.Record((long)System.Diagnostics.Stopwatch.GetElapsedTime(sentAt).TotalNanoseconds);
            }
        }
        catch
        {
            link.Dispose();
            throw;
        }

        return link;
    }

    /// <summary>Opens <paramref name="count"/> connections, <paramref name="parallelism"/> at a time.</summary>
    public async Task<List<HubLink>> OpenManyAsync(Dialer dialer, int count, int firstId = 0, RawEndpoint raw = RawEndpoint.Echo, int parallelism = 64)
    {
        var links = new HubLink[count];
        var next = -1;
        var workers = Enumerable.Range(0, Math.Min(parallelism, Math.Max(1, count))).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                links[i] = await OpenAsync(dialer, firstId + i, raw);
            }
        }).ToList();
        try
        {
            await Task.WhenAll(workers);
        }
        catch
        {
            foreach (var link in links)
            {
                link?.Dispose();
            }

            throw;
        }

        return [.. links];
    }

    public void Dispose() => _credentials.Dispose();

    private string TakeToken() =>
        _tokens.TryDequeue(out var token) ? token : Credentials.CreateToken(tokenKey, Interlocked.Increment(ref _tokenSerial));
}
