using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.Tests.Unit;

public sealed class TlsPathTests
{
    private static readonly string Shell = Directory.CreateTempSubdirectory("signalrsecure-shell-").FullName;
    private const string Project = "/repository/server/SignalRSecure.Server";

    [Fact]
    public void ResolvePath_RelativeWithShellDirectory_ResolvesAgainstTheShellDirectory() =>
        Assert.Equal(Path.Combine(Shell, "cert.pem"), TlsOptions.ResolvePath("cert.pem", Shell, Project));

    [Fact]
    public void ResolvePath_RelativeWithParentSegments_ResolvesAgainstTheShellDirectory() =>
        Assert.Equal(Path.Combine(Path.GetDirectoryName(Shell)!, "key.pem"), TlsOptions.ResolvePath("../key.pem", Shell, Project));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/shell")]
    [InlineData("/no/such/directory/anywhere")]
    public void ResolvePath_RelativeWithoutAUsableShellDirectory_ResolvesAgainstTheWorkingDirectory(string? shell) =>
        Assert.Equal(Path.Combine(Project, "cert.pem"), TlsOptions.ResolvePath("cert.pem", shell, Project));

    [Fact]
    public void ResolvePath_Absolute_IsKept() =>
        Assert.Equal("/etc/ssl/chat/cert.pem", TlsOptions.ResolvePath("/etc/ssl/chat/cert.pem", Shell, Project));
}
