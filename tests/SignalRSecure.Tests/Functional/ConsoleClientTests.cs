using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

public sealed class ConsoleClientTests
{
    [Fact]
    public async Task Console_ScriptedSession_SignsInEchoesAndQuits()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        using var console = ConsoleClientProcess.Start(server.BaseAddress, SecureServer.Alice.Name);

        // Act
        await console.WriteLineAsync(SecureServer.Alice.Password);
        var connected = await console.Output.NextAsync(within: ConsoleClientProcess.Lifetime);
        await console.WriteLineAsync("/echo hello from a script");
        var echo = await console.Output.NextAsync();
        await console.WriteLineAsync("/quit");
        var exitCode = await console.WaitForExitAsync();

        // Assert
        Assert.StartsWith("Connected as alice", connected, StringComparison.Ordinal);
        Assert.Equal("echo: hello from a script", echo);
        Assert.Equal(0, exitCode);
        Assert.Contains(server.Logs.WithEvent("ConnectionClosed"), r => r.Message.EndsWith("client left", StringComparison.Ordinal));
        Assert.DoesNotContain(console.Output.All.Concat(console.Errors.All), line => line.Contains(SecureServer.Alice.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Console_GroupsAndBroadcasts_PrintOtherUsersTextWithoutControlCharacters()
    {
        // Arrange: alice on the console in "general", bob on the .NET client.
        await using var server = await SecureServer.StartAsync();
        using var console = await SignedInAsync(server, SecureServer.Alice);
        await console.WriteLineAsync("/join general");
        await console.Output.NextAsync(line => line == "* you joined general");
        await using var bob = await DotNetClientHarness.ConnectAsync(server, SecureServer.Bob);
        await bob.JoinGroupAsync("general").WaitAsync(DotNetClientHarness.Timeout);

        // Act: bob's texts try to retitle the terminal, clear it and reverse the line.
        var bobJoined = await console.Output.NextAsync(line => line.Contains("bob joined", StringComparison.Ordinal));
        await bob.SendToGroupAsync("general", "\u001b]0;owned\u0007\u001b[2Jhi\r\nthere").WaitAsync(DotNetClientHarness.Timeout);
        var groupLine = await console.Output.NextAsync(line => line.StartsWith("[general]", StringComparison.Ordinal));
        await bob.BroadcastAsync("\u202Eevil\u009b31m").WaitAsync(DotNetClientHarness.Timeout);
        var broadcastLine = await console.Output.NextAsync(line => line.StartsWith("<bob>", StringComparison.Ordinal));
        await console.WriteLineAsync("/who general");
        var who = await console.Output.NextAsync(line => line.StartsWith("* in general", StringComparison.Ordinal));
        console.CloseInput();
        var exitCode = await console.WaitForExitAsync();

        // Assert
        Assert.Equal("* bob joined general", bobJoined);
        Assert.Equal("[general] <bob> ]0;owned[2Jhi  there", groupLine);
        Assert.Equal("<bob> evil31m", broadcastLine);
        Assert.Equal("* in general: alice, bob", who);
        Assert.DoesNotContain(console.Output.All, line => line.Any(char.IsControl));
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task Console_HubErrors_ArePrintedAndTheChatGoesOn()
    {
        await using var server = await SecureServer.StartAsync();
        using var console = await SignedInAsync(server, SecureServer.Bob);

        await console.WriteLineAsync("/join ops");
        var forbidden = await console.Output.NextAsync();
        await console.WriteLineAsync("/to general hi");
        var notMember = await console.Output.NextAsync();
        await console.WriteLineAsync("/nonsense");
        var unknown = await console.Output.NextAsync();
        await console.WriteLineAsync("/echo still here");
        var echo = await console.Output.NextAsync();
        await console.WriteLineAsync("/quit");

        Assert.Equal($"! {HubErrors.Forbidden}", forbidden);
        Assert.Equal($"! {HubErrors.NotAMember}", notMember);
        Assert.StartsWith("! unknown command", unknown, StringComparison.Ordinal);
        Assert.Equal("echo: still here", echo);
        Assert.Equal(0, await console.WaitForExitAsync());
    }

    [Fact]
    public async Task Console_WrongPassword_FailsWithoutEchoingIt()
    {
        await using var server = await SecureServer.StartAsync();
        using var console = ConsoleClientProcess.Start(server.BaseAddress, SecureServer.Alice.Name);

        await console.WriteLineAsync("not-alices-password");
        var exitCode = await console.WaitForExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains(console.Errors.All, line => line.Contains("Sign-in failed", StringComparison.Ordinal));
        Assert.DoesNotContain(console.Output.All.Concat(console.Errors.All), line => line.Contains("not-alices-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Console_LoggedOutElsewhere_ReportsTheReasonAndExits()
    {
        await using var server = await SecureServer.StartAsync();
        using var console = await SignedInAsync(server, SecureServer.Alice);
        using var browser = server.CreateAuthClient();
        await browser.LoginAsync(SecureServer.Alice).WaitAsync(DotNetClientHarness.Timeout);

        using var logout = await browser.LogoutAsync().WaitAsync(DotNetClientHarness.Timeout);
        var disconnected = await console.Output.NextAsync(line => line.StartsWith("* disconnected", StringComparison.Ordinal));
        var exitCode = await console.WaitForExitAsync();

        Assert.Equal($"* disconnected: {CloseReasons.LoggedOut}", disconnected);
        Assert.Equal(1, exitCode);
    }

    [Fact]
    public async Task Console_CtrlC_ClosesTheConnectionAndExitsCleanly()
    {
        await using var server = await SecureServer.StartAsync();
        using var console = await SignedInAsync(server, SecureServer.Alice);

        await console.InterruptAsync();
        var exitCode = await console.WaitForExitAsync();

        Assert.Equal(0, exitCode);
        Assert.Contains(server.Logs.WithEvent("ConnectionClosed"), r => r.Message.EndsWith("client left", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Console_JoinWithAnInvalidName_SaysInvalidGroupName_AndOwnJoinIsPrintedOnce()
    {
        // Arrange
        await using var server = await SecureServer.StartAsync();
        using var console = await SignedInAsync(server, SecureServer.Alice);

        // Act: the echo's answer comes after anything the server sent before it, an announcement of the join included.
        await console.WriteLineAsync("/join bad name!");
        var invalid = await console.Output.NextAsync();
        await console.WriteLineAsync("/who bad name!");
        var invalidWho = await console.Output.NextAsync();
        await console.WriteLineAsync("/join general");
        var joined = await console.Output.NextAsync();
        await console.WriteLineAsync("/echo after the join");
        var next = await console.Output.NextAsync();
        await console.WriteLineAsync("/quit");

        // Assert
        Assert.StartsWith("! invalid group name: bad name!", invalid, StringComparison.Ordinal);
        Assert.StartsWith("! invalid group name: bad name!", invalidWho, StringComparison.Ordinal);
        Assert.Equal("* you joined general", joined);
        Assert.Equal("echo: after the join", next);
        Assert.Equal(0, await console.WaitForExitAsync());
    }

    [Fact]
    public async Task Console_Join_PrintsTheGroupsLastMessagesBeforeLiveOnes()
    {
        // Arrange: bob said three things in general before alice joins it on the console.
        await using var server = await SecureServer.StartAsync();
        await using var bob = await DotNetClientHarness.ConnectAsync(server, SecureServer.Bob);
        await bob.JoinGroupAsync("general").WaitAsync(DotNetClientHarness.Timeout);
        foreach (var text in new[] { "first", "second", "third" })
        {
            await bob.SendToGroupAsync("general", text).WaitAsync(DotNetClientHarness.Timeout);
        }

        using var console = await SignedInAsync(server, SecureServer.Alice);

        // Act
        await console.WriteLineAsync("/join general");
        var joined = await console.Output.NextAsync(line => line == "* you joined general");
        List<string> history = [];
        for (var i = 0; i < 4; i++)
        {
            history.Add(await console.Output.NextAsync());
        }

        await bob.SendToGroupAsync("general", "live").WaitAsync(DotNetClientHarness.Timeout);
        var live = await console.Output.NextAsync(line => line.StartsWith("[general]", StringComparison.Ordinal));
        await console.WriteLineAsync("/quit");

        // Assert
        Assert.Equal("* you joined general", joined);
        Assert.Equal(["* last 3 messages in general:", "[general] <bob> first", "[general] <bob> second", "[general] <bob> third"], history);
        Assert.Equal("[general] <bob> live", live);
        Assert.Single(console.Output.All, line => line.EndsWith("<bob> third", StringComparison.Ordinal));
        Assert.Equal(0, await console.WaitForExitAsync());
    }

    [Fact]
    public async Task Console_OwnOtherSessionJoins_IsShownAsThatUser()
    {
        // Arrange: alice on the console in "general", and alice again on the .NET client.
        await using var server = await SecureServer.StartAsync();
        using var console = await SignedInAsync(server, SecureServer.Alice);
        await console.WriteLineAsync("/join general");
        await console.Output.NextAsync(line => line == "* you joined general");
        await using var otherSession = await DotNetClientHarness.ConnectAsync(server, SecureServer.Alice);

        // Act
        await otherSession.JoinGroupAsync("general").WaitAsync(DotNetClientHarness.Timeout);
        var announced = await console.Output.NextAsync();
        console.CloseInput();

        // Assert
        Assert.Equal("* alice joined general", announced);
        Assert.Equal(0, await console.WaitForExitAsync());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Console_Help_PrintsUsageAndExitsZero(string flag)
    {
        using var console = ConsoleClientProcess.Start(flag);

        var exitCode = await console.WaitForExitAsync();

        Assert.Equal(0, exitCode);
        Assert.StartsWith("usage: SignalRSecure.Console", console.Output.All[0], StringComparison.Ordinal);
        Assert.Contains(console.Output.All, line => line.TrimStart().StartsWith("--url", StringComparison.Ordinal));
        Assert.Empty(console.Errors.All);
    }

    [Fact]
    public async Task Console_WrongUrl_FailsBeforeAskingForThePassword()
    {
        // Arrange: a loopback port that nothing listens on any more.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        // Act
        using var console = ConsoleClientProcess.Start("--url", $"http://127.0.0.1:{port}", "--user", "alice");
        var exitCode = await console.WaitForExitAsync();

        // Assert: one line that says why, and no prompt (the prompt has no line break, so it would join that line).
        Assert.Equal(1, exitCode);
        var error = Assert.Single(console.Errors.All);
        Assert.StartsWith($"Cannot reach the server at http://127.0.0.1:{port}/: ", error, StringComparison.Ordinal);
        Assert.Contains("refused", error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Password", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1", "UntrustedRoot")]
    [InlineData("chat.example.com", "RemoteCertificateNameMismatch")]
    public async Task Console_TlsFailure_PrintsTheReasonOnOneLine(string certificateName, string reason)
    {
        // Arrange: a self-signed certificate (an untrusted root), for the server's address or for another name.
        var path = Path.Combine(Path.GetTempPath(), $"signalrsecure-{Guid.NewGuid():N}.pfx");
        using (var key = System.Security.Cryptography.RSA.Create(2048))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
                $"CN={certificateName}", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
            if (System.Net.IPAddress.TryParse(certificateName, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(certificateName);
            }

            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(path, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx));
        }

        try
        {
            await using var server = await SecureServer.StartAsync(new Dictionary<string, string?> { ["SignalRSecure:Tls:CertificatePath"] = path });
            var https = new UriBuilder(server.BaseAddress) { Scheme = Uri.UriSchemeHttps }.Uri;

            // Act
            using var console = ConsoleClientProcess.Start("--url", https.ToString(), "--user", "alice");
            console.CloseInput();
            var exitCode = await console.WaitForExitAsync();

            // Assert
            Assert.Equal(1, exitCode);
            var error = Assert.Single(console.Errors.All);
            Assert.Contains(reason, error, StringComparison.Ordinal);
            Assert.DoesNotContain("inner exception", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The console client started against <paramref name="server"/>, signed in as <paramref name="user"/> and connected.</summary>
    private static async Task<ConsoleClientProcess> SignedInAsync(SecureServer server, TestUser user)
    {
        var console = ConsoleClientProcess.Start(server.BaseAddress, user.Name);
        try
        {
            await console.WriteLineAsync(user.Password);
            await console.Output.NextAsync(line => line.StartsWith("Connected as", StringComparison.Ordinal), ConsoleClientProcess.Lifetime);
            return console;
        }
        catch
        {
            console.Dispose();
            throw;
        }
    }
}
