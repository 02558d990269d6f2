using System.Net;
using System.Security.Cryptography.X509Certificates;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The certificate formats <c>SignalRSecure:Tls</c> loads, made by openssl the way the README's recipe makes them: a
/// PEM certificate with an unencrypted key (<c>-nodes</c>) and with an encrypted one. The PFX is in <see cref="TlsTests"/>.
/// </summary>
public sealed class TlsCertificateFormatTests : IDisposable
{
    private const string KeyPassword = "a key password";
    private readonly string _directory = Directory.CreateTempSubdirectory("signalrsecure-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("-nodes", null)]
    [InlineData("-passout 'pass:" + KeyPassword + "'", KeyPassword)]
    public async Task PemCertificate_WithKey_ServesHttps(string keyProtection, string? password)
    {
        // Arrange
        using (var openssl = await ShellCommand.RunAsync(
            $"openssl req -x509 -newkey rsa:2048 {keyProtection} -days 1 -subj /CN=127.0.0.1 -keyout key.pem -out cert.pem",
            _directory,
            TimeSpan.FromSeconds(60)))
        {
            Assert.True(openssl.ExitCode == 0, openssl.Transcript());
        }

        var keyText = await File.ReadAllTextAsync(Path.Combine(_directory, "key.pem"));
        using var expected = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_directory, "cert.pem"));

        // Act
        await using var server = await SecureServer.StartAsync(new Dictionary<string, string?>
        {
            ["SignalRSecure:Tls:CertificatePath"] = Path.Combine(_directory, "cert.pem"),
            ["SignalRSecure:Tls:KeyPath"] = Path.Combine(_directory, "key.pem"),
            ["SignalRSecure:Tls:CertificatePassword"] = password,
        });
        using var https = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == expected.Thumbprint,
        });
        var address = new UriBuilder(server.BaseAddress) { Scheme = Uri.UriSchemeHttps }.Uri;
        using var response = await https.GetAsync(new Uri(address, SecureEndpoints.Health)).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal(password is null ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN ENCRYPTED PRIVATE KEY-----", keyText.Split('\n')[0]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
