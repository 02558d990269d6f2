using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Functional;

/// <summary>
/// The libraries as a user gets them: the packable projects packed into a folder feed, and a small app of the user's own
/// (outside the repository, with its own NuGet.config) that adds a package and builds: a web app that gates a hub of its
/// own with the gate library, and a console app that talks to the real chat server with the .NET client.
/// </summary>
/// <remarks>
/// Slow (it packs, restores and builds a project), so it runs in the collection that runs alone; every step has a
/// time bound and the whole test is bounded at 3 minutes.
/// </remarks>
[Collection(TimingSensitive.Name)]
public sealed partial class PackageConsumerTests
{
    private static readonly TimeSpan WholeTest = TimeSpan.FromMinutes(3);

    private static readonly string[] PackableProjects =
    [
        "server/SignalRSecure.Contracts/SignalRSecure.Contracts.csproj",
        "server/SignalRSecure.Chat.Contracts/SignalRSecure.Chat.Contracts.csproj",
        "server/SignalRSecure.AspNetCore/SignalRSecure.AspNetCore.csproj",
        "client-dotnet/SignalRSecure.Client/SignalRSecure.Client.csproj",
    ];

    private const string ConsumerProgram = """
        using SignalRSecure.AspNetCore.Gate;

        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSecureHub<NotesHub>();

        var app = builder.Build();
        app.UseSignalRSecure();
        app.MapSignalRSecureAuth();
        app.MapSecureHub<NotesHub>("/hubs/notes");
        app.Run();

        public interface INotesClient
        {
            Task NoteAdded(string user, string text);
        }

        public sealed class NotesHub : SecureHub<INotesClient>
        {
            public Task<string> Echo(string text) => Task.FromResult($"{CurrentUser.Name}: {text}");
        }
        """;

    private static readonly string[] ClientPackages = ["SignalRSecure.Contracts", "SignalRSecure.Chat.Contracts", "SignalRSecure.Client"];

    // A console app on the base .NET runtime alone: the client needs no ASP.NET Core shared framework.
    private const string ClientConsumerProgram = """
        using SignalRSecure.Client;

        var server = new Uri(args[0]);
        using var tickets = new CookieTicketSource(server);
        await tickets.SignInAsync(Environment.GetEnvironmentVariable("CONSUMER_USER")!, Environment.GetEnvironmentVariable("CONSUMER_PASSWORD")!);
        await using var client = new SecureHubClient(new SecureHubClientOptions { ServerUrl = server }, tickets.GetTicketAsync);
        var authentication = await client.ConnectAsync();
        var echo = await client.EchoAsync("hello from the package");
        Console.WriteLine($"{authentication.User}|{client.State}|{echo}");
        """;

    [Fact]
    public async Task PackedLibrary_InAnAppOfItsOwn_GatesItsHub()
    {
        using var deadline = new CancellationTokenSource(WholeTest);
        var work = Directory.CreateTempSubdirectory("signalrsecure-consumer-");
        Process? app = null;
        try
        {
            // Arrange: the packages, then the app that consumes them from the folder feed.
            var repository = FindRepository();
            var feed = Path.Combine(work.FullName, "feed");
            foreach (var project in PackableProjects)
            {
                await RunAsync(PackCommand(repository, project, feed, work.FullName), work.FullName, deadline.Token);
            }

            var version = PackageVersion(feed, "SignalRSecure.AspNetCore");
            await WriteFeedConfigurationAsync(work.FullName, feed, await EffectiveSourcesAsync(repository, deadline.Token));
            var appDirectory = await WriteProjectAsync(work.FullName, "NotesApp", "Microsoft.NET.Sdk.Web", "SignalRSecure.AspNetCore", version, ConsumerProgram);
            await RunAsync(["build", appDirectory, "--disable-build-servers", "--nologo", "-v", "q"], appDirectory, deadline.Token);

            // Act: start it on a random loopback port, get a ticket with the issuer key, authenticate over a raw WebSocket.
            (app, var baseAddress) = await StartAsync(appDirectory, deadline.Token);
            using var auth = new AuthClient(baseAddress);
            using var issued = await auth.IssueTicketAsync(new IssueTicketRequest("dana", ["notes"]));
            issued.EnsureSuccessStatusCode();
            var ticket = (await issued.Content.ReadFromJsonAsync<TicketResponse>())!.Ticket;
            var hub = new UriBuilder(baseAddress) { Scheme = "ws", Path = "/hubs/notes" }.Uri;
            await using var gated = await RawHubSocket.ConnectWithHandshakeAsync(hub);
            var (authenticated, authenticateError) = await gated.CallAsync(nameof(ISecureHub.Authenticate), ticket);
            var (echoed, _) = await gated.CallAsync("Echo", "hello");
            await using var ungated = await RawHubSocket.ConnectWithHandshakeAsync(hub);
            await ungated.InvokeAsync("Echo", "before authenticating");
            var close = await ungated.ReceiveCloseAsync();

            // Assert
            Assert.Null(authenticateError);
            Assert.Equal("dana", authenticated!.Value.GetProperty("user").GetString());
            Assert.Equal("dana: hello", echoed!.Value.GetString());
            Assert.Equal(CloseReasons.AuthenticationRequired, close.Error);
        }
        finally
        {
            if (app is { HasExited: false })
            {
                app.Kill(entireProcessTree: true);
                await app.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }

            app?.Dispose();
            TryDelete(work);
        }
    }

    [Fact]
    public async Task PackedClient_InAConsoleAppOfItsOwn_ConnectsAuthenticatesAndEchoes()
    {
        using var deadline = new CancellationTokenSource(WholeTest);
        var work = Directory.CreateTempSubdirectory("signalrsecure-client-consumer-");
        try
        {
            // Arrange: the client and the contracts it depends on, packed; the console app that adds the client; the server.
            var repository = FindRepository();
            var feed = Path.Combine(work.FullName, "feed");
            foreach (var project in PackableProjects.Where(p => ClientPackages.Contains(Path.GetFileNameWithoutExtension(p))))
            {
                await RunAsync(PackCommand(repository, project, feed, work.FullName), work.FullName, deadline.Token);
            }

            var version = PackageVersion(feed, "SignalRSecure.Client");
            await WriteFeedConfigurationAsync(work.FullName, feed, await EffectiveSourcesAsync(repository, deadline.Token));
            var appDirectory = await WriteProjectAsync(work.FullName, "ChatConsumer", "Microsoft.NET.Sdk", "SignalRSecure.Client", version, ClientConsumerProgram, outputType: "Exe");
            await RunAsync(["build", appDirectory, "--disable-build-servers", "--nologo", "-v", "q"], appDirectory, deadline.Token);
            await using var server = await SecureServer.StartAsync();

            // Act
            var run = DotNet([Path.Combine(appDirectory, "bin", "Debug", "net10.0", "ChatConsumer.dll"), server.BaseAddress.ToString()], appDirectory);
            run.Environment["CONSUMER_USER"] = SecureServer.Alice.Name;
            run.Environment["CONSUMER_PASSWORD"] = SecureServer.Alice.Password;
            var output = await RunAsync(run, TimeSpan.FromSeconds(60), deadline.Token);

            // Assert: the app ran on the packed client (version from the feed), and every package carries its metadata.
            Assert.Equal("alice|Authenticated|hello from the package", output.Trim().Split('\n')[^1].Trim());
            Assert.True(File.Exists(Path.Combine(work.FullName, "packages", "signalrsecure.client", version, $"signalrsecure.client.{version}.nupkg")));
            foreach (var id in ClientPackages)
            {
                var metadata = Nuspec(Path.Combine(feed, $"{id}.{version}.nupkg"));
                Assert.Equal(id, Child(metadata, "id")?.Value);
                Assert.Equal("MIT", Child(metadata, "license")?.Value);
                Assert.Equal("README.md", Child(metadata, "readme")?.Value);
                Assert.False(string.IsNullOrWhiteSpace(Child(metadata, "description")?.Value));
                // Source Link records the commit the package was built from (and the URL too where the clone's remote is a known host).
                Assert.Matches("^[0-9a-f]{40}\\z", Child(metadata, "repository")?.Attribute("commit")?.Value ?? string.Empty);
                Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), $"{id} has no symbol package");
            }
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>
    /// Packs from the build the test run already made (the default bin/ layout), or builds into a scratch directory of
    /// its own when the tests run from elsewhere (an artifacts path).
    /// </summary>
    private static string[] PackCommand(string repository, string project, string feed, string work)
    {
        var testDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return testDirectory.Parent is { Parent.Name: "bin" } configuration
            ? ["pack", Path.Combine(repository, project), "-c", configuration.Name, "--no-build", "-o", feed, "--nologo", "-v", "q"]
            : ["pack", Path.Combine(repository, project), "--artifacts-path", Path.Combine(work, "artifacts"), "--disable-build-servers", "-o", feed, "--nologo", "-v", "q"];
    }

    private static string PackageVersion(string feed, string id)
    {
        var package = Directory.GetFiles(feed, $"{id}.*.nupkg").Single(path => !path.EndsWith(".snupkg", StringComparison.Ordinal));
        return Path.GetFileNameWithoutExtension(package)[(id.Length + 1)..];
    }

    /// <summary>The package sources the repository restores from (the machine's NuGet mirror), as <c>dotnet nuget list source</c> shows them.</summary>
    private static async Task<IReadOnlyList<string>> EffectiveSourcesAsync(string repository, CancellationToken cancellationToken)
    {
        var output = await RunAsync(["nuget", "list", "source", "--format", "short"], repository, cancellationToken);
        return [.. output.Split('\n').Select(line => EnabledSource().Match(line)).Where(match => match.Success).Select(match => match.Groups[1].Value.Trim())];
    }

    private static async Task WriteFeedConfigurationAsync(string work, string feed, IReadOnlyList<string> sources)
    {
        // Empty MSBuild files at the top of the scratch directory: nothing above it (a stray Directory.Build.props in the
        // temp directory) takes part in the build.
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            await File.WriteAllTextAsync(Path.Combine(work, file), "<Project />\n");
        }

        // The feed alone may provide SignalRSecure.* (a package of the same id elsewhere must not win), and a packages
        // folder of its own keeps an older package of the same version in the machine's cache out of the way.
        var config = new StringBuilder()
            .AppendLine("<configuration>")
            .AppendLine("  <config><add key=\"globalPackagesFolder\" value=\"packages\" /></config>")
            .AppendLine("  <packageSources>")
            .AppendLine("    <clear />")
            .AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"    <add key=\"local\" value=\"{feed}\" />");
        for (var i = 0; i < sources.Count; i++)
        {
            config.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"    <add key=\"source{i}\" value=\"{sources[i]}\" />");
        }

        config.AppendLine("  </packageSources>").AppendLine("  <packageSourceMapping>")
            .AppendLine("    <packageSource key=\"local\"><package pattern=\"SignalRSecure.*\" /></packageSource>");
        for (var i = 0; i < sources.Count; i++)
        {
            config.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"    <packageSource key=\"source{i}\"><package pattern=\"*\" /></packageSource>");
        }

        config.AppendLine("  </packageSourceMapping>").AppendLine("</configuration>");
        await File.WriteAllTextAsync(Path.Combine(work, "NuGet.config"), config.ToString());
    }

    /// <summary>A project of the user's own in <c>work/name</c> that references <paramref name="package"/> from the feed.</summary>
    private static async Task<string> WriteProjectAsync(
        string work, string name, string sdk, string package, string version, string program, string? outputType = null)
    {
        var app = Directory.CreateDirectory(Path.Combine(work, name)).FullName;
        var output = outputType is null ? "" : $"<OutputType>{outputType}</OutputType>";
        await File.WriteAllTextAsync(Path.Combine(app, $"{name}.csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                {output}
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{package}" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), program);
        return app;
    }

    private static XElement? Child(XElement element, string name) => element.Elements().SingleOrDefault(e => e.Name.LocalName == name);

    /// <summary>The <c>metadata</c> element of the package's .nuspec.</summary>
    private static XElement Nuspec(string package)
    {
        using var archive = ZipFile.OpenRead(package);
        var entry = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static async Task<(Process Process, Uri BaseAddress)> StartAsync(string appDirectory, CancellationToken cancellationToken)
    {
        var start = DotNet([Path.Combine(appDirectory, "bin", "Debug", "net10.0", "NotesApp.dll")], appDirectory);
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["SignalRSecure__Tickets__IssuerKey"] = SecureServer.IssuerKey;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data is not null && ListeningOn().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The app exited:\n{Text(output)}"));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return (process, await listening.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken));
        }
        catch (TimeoutException ex)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The app did not start listening:\n{Text(output)}", ex);
        }
    }

    private static Task<string> RunAsync(string[] arguments, string directory, CancellationToken cancellationToken) =>
        RunAsync(DotNet(arguments, directory), timeout: null, cancellationToken);

    private static async Task<string> RunAsync(ProcessStartInfo start, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            bounded.CancelAfter(limit);
        }

        cancellationToken = bounded.Token;
        var arguments = start.ArgumentList.ToArray();
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish in time:\n{Text(output)}");
        }

        return process.ExitCode == 0
            ? Text(output)
            : throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{Text(output)}");
    }

    private static ProcessStartInfo DotNet(string[] arguments, string directory)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The consumer restores into its own packages folder (NuGet.config); the variable would override that.
        start.Environment.Remove("NUGET_PACKAGES");
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }

    private static void Append(StringBuilder output, string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static void TryDelete(DirectoryInfo directory)
    {
        try
        {
            directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string FindRepository([CallerFilePath] string source = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(source)! })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "SignalRSecure.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException("The repository (SignalRSecure.sln) was not found.");
    }

    // `E https://api.nuget.org/v3/index.json`: enabled sources only.
    [GeneratedRegex(@"^\s*E\S*\s+(\S+)\s*\z")]
    private static partial Regex EnabledSource();

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
