using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using SignalRSecure.Contracts;
using SignalRSecure.AspNetCore.Accounts;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The README's commands, run by bash as a user types them: the TLS recipe (openssl, then <c>dotnet run</c> with relative
/// paths, which starts the server in the project folder) and the password hash command.
/// </summary>
[Collection(nameof(ReadmeCommandTests))]
public sealed partial class ReadmeCommandTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("signalrsecure-readme-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task TlsRecipe_AsWritten_ServesHttpsWithTheOpensslCertificate()
    {
        // Arrange: the README's openssl command, in the directory the user is in.
        using (var openssl = await ShellCommand.RunAsync(
            "openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=chat.example.com -keyout key.pem -out cert.pem",
            _directory,
            TimeSpan.FromSeconds(60)))
        {
            Assert.True(openssl.ExitCode == 0, openssl.Transcript());
        }

        using var expected = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_directory, "cert.pem"));

        // Act: the README's server command with its relative paths; a random loopback port instead of 0.0.0.0:5001.
        using var server = ShellCommand.Start(
            $"SignalRSecure__Tls__CertificatePath=cert.pem SignalRSecure__Tls__KeyPath=key.pem {ShellCommand.DotNetRunServer} -- --urls https://127.0.0.1:0",
            _directory);
        var address = await ListeningAddressAsync(server);
        using var https = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == expected.Thumbprint,
        });
        using var response = await https.GetAsync(new Uri(address, SecureEndpoints.Health)).WaitAsync(TimeSpan.FromSeconds(10));

        // Assert
        Assert.Equal("https", address.Scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task HashPasswordCommand_AsWritten_PrintsTheHashAlone()
    {
        // Act: the README's command (the launch profile left out: dotnet run prints "Using launch settings" on stdout).
        using var command = await ShellCommand.RunAsync(
            $"echo 'a long passphrase' | {ShellCommand.DotNetRunServer} --no-launch-profile -- hash-password",
            _directory,
            StartTimeout);

        // Assert
        Assert.True(command.ExitCode == 0, command.Transcript());
        var line = Assert.Single(command.Output.All);
        Assert.True(PasswordHasher.TryParse(line, out var hash), command.Transcript());
        Assert.True(PasswordHasher.Verify("a long passphrase", hash));
    }

    private static async Task<Uri> ListeningAddressAsync(ShellCommand server)
    {
        var listening = server.Output.NextAsync(line => line.Contains("Now listening on: ", StringComparison.Ordinal), StartTimeout);
        if (await Task.WhenAny(listening, server.Exited) != listening || !listening.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException($"The server did not start.\n{server.Transcript()}");
        }

        return new Uri(ListeningPattern().Match(await listening).Groups[1].Value);
    }

    [GeneratedRegex(@"Now listening on: (\S+)")]
    private static partial Regex ListeningPattern();
}
