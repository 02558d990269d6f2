using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>
/// TLS for every endpoint. With <see cref="CertificatePath"/> set, every Kestrel endpoint speaks TLS 1.2 or 1.3
/// only (plain <c>http://</c> and <c>ws://</c> fail the handshake) and HTTPS responses carry HSTS.
/// Bound from <see cref="SectionName"/>.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Tls";

    /// <summary>The default of <see cref="HstsMaxAge"/>.</summary>
    public static readonly TimeSpan DefaultHstsMaxAge = TimeSpan.FromDays(365);

    /// <summary>
    /// A PEM certificate (with <see cref="KeyPath"/>) or a PFX file; a relative path resolves as <see cref="ResolvePath(string)"/>
    /// says. The default is none: no TLS.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>
    /// The PEM private key of <see cref="CertificatePath"/>, encrypted (with <see cref="CertificatePassword"/>) or not;
    /// not needed for a PFX. The default is none.
    /// </summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of the PFX or of an encrypted PEM key. The default is none.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The <c>max-age</c> of the <c>Strict-Transport-Security</c> header. The default is 365 days.</summary>
    public TimeSpan HstsMaxAge { get; set; } = DefaultHstsMaxAge;

    /// <summary>Whether a certificate is configured.</summary>
    public bool IsConfigured => !string.IsNullOrEmpty(CertificatePath);

    /// <summary>
    /// <paramref name="path"/> made absolute. A relative path resolves against the directory the command was started in:
    /// the shell's <c>PWD</c>, which <c>dotnet run</c> passes on although it starts the server in the project folder,
    /// or the working directory where no shell set <c>PWD</c>.
    /// </summary>
    internal static string ResolvePath(string path) =>
        ResolvePath(path, Environment.GetEnvironmentVariable("PWD"), Directory.GetCurrentDirectory());

    internal static string ResolvePath(string path, string? shellDirectory, string workingDirectory) =>
        Path.GetFullPath(path, shellDirectory is not null && Path.IsPathFullyQualified(shellDirectory) && Directory.Exists(shellDirectory)
            ? shellDirectory
            : workingDirectory);
}

internal sealed class TlsOptionsValidator : IValidateOptions<TlsOptions>
{
    public ValidateOptionsResult Validate(string? name, TlsOptions options) =>
        new OptionsErrors(TlsOptions.SectionName)
            .Require(!options.IsConfigured || File.Exists(TlsOptions.ResolvePath(options.CertificatePath!)), nameof(options.CertificatePath), Missing(options.CertificatePath))
            .Require(options.KeyPath is null || File.Exists(TlsOptions.ResolvePath(options.KeyPath)), nameof(options.KeyPath), Missing(options.KeyPath))
            .Positive(nameof(options.HstsMaxAge), options.HstsMaxAge)
            .Result();

    // The resolved path, so that a relative one that resolved elsewhere than expected says where it looked.
    private static string Missing(string? path) =>
        path is null ? string.Empty : $"names a file that does not exist: {TlsOptions.ResolvePath(path)}";
}
