using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SignalRSecure.Chat.Contracts;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class TlsTests : IAsyncLifetime
{
    private readonly string _certificatePath = Path.Combine(Path.GetTempPath(), $"signalrsecure-{Guid.NewGuid():N}.pfx");
    private X509Certificate2 _certificate = null!;
    private SecureServer _server = null!;

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllBytesAsync(_certificatePath, _certificate.Export(X509ContentType.Pfx));
        _server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Tls:CertificatePath"] = _certificatePath });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _certificate.Dispose();
        File.Delete(_certificatePath);
    }

    [Fact]
    public async Task Https_ServesWithHsts_AndPlainHttpIsRefused()
    {
        using var https = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _certificate.Thumbprint });
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        using var response = await https.GetAsync(new Uri(Https, SecureEndpoints.Health));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("max-age=31536000; includeSubDomains", response.Headers.GetValues("Strict-Transport-Security").Single());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync(new Uri(Http, SecureEndpoints.Health)));
    }

    [Fact]
    public async Task Wss_LoginTicketAuthenticateEcho_Works_WithASecureHostCookie()
    {
        var cookies = new CookieContainer();
        using var https = new HttpClient(new HttpClientHandler
        {
            CookieContainer = cookies,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _certificate.Thumbprint,
        })
        { BaseAddress = Https };
        using var login = await https.PostAsync(SecureEndpoints.Login, System.Net.Http.Json.JsonContent.Create(new LoginRequest("alice", SecureServer.Alice.Password)));
        using var ticketRequest = new HttpRequestMessage(HttpMethod.Post, SecureEndpoints.Ticket);
        ticketRequest.Headers.Add(SecureEndpoints.RequestHeader, SecureEndpoints.RequestHeaderValue);
        using var ticketResponse = await https.SendAsync(ticketRequest);
        var ticket = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<TicketResponse>(ticketResponse.Content);
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificate.Thumbprint;

        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{Http.Port}{ChatEndpoints.Hub}"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var cookie = login.Headers.GetValues("Set-Cookie").Single();

        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.StartsWith("__Host-SignalRSecure=", cookie, StringComparison.Ordinal);
        Assert.Contains("secure", cookie.Split(';').Skip(1).Select(attribute => attribute.Trim().ToLowerInvariant()));
        Assert.NotNull(ticket);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Theory]
    [InlineData("-tls1", false)]
    [InlineData("-tls1_1", false)]
    [InlineData("-tls1_2", true)]
    [InlineData("-tls1_3", true)]
    public async Task Handshake_BelowTls12_Fails(string protocolFlag, bool succeeds)
    {
        // openssl's client, at security level 0 so that it offers TLS 1.0 and 1.1 at all; the server must refuse them.
        var start = new System.Diagnostics.ProcessStartInfo("openssl", $"s_client -connect 127.0.0.1:{Http.Port} {protocolFlag} -cipher DEFAULT:@SECLEVEL=0")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var transcript = await stdout + await stderr;

        Assert.Equal(succeeds, transcript.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal));
    }

    private Uri Http => _server.BaseAddress;

    private Uri Https => new UriBuilder(_server.BaseAddress) { Scheme = Uri.UriSchemeHttps }.Uri;
}
