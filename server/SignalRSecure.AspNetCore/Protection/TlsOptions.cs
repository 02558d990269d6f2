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

    /// <summary>A PEM certificate (with <see cref="KeyPath"/>) or a PFX file. The default is none: no TLS.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>; not needed for a PFX. The default is none.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of the PFX or of an encrypted PEM key. The default is none.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The <c>max-age</c> of the <c>Strict-Transport-Security</c> header. The default is 365 days.</summary>
    public TimeSpan HstsMaxAge { get; set; } = DefaultHstsMaxAge;

    /// <summary>Whether a certificate is configured.</summary>
    public bool IsConfigured => !string.IsNullOrEmpty(CertificatePath);
}

internal sealed class TlsOptionsValidator : IValidateOptions<TlsOptions>
{
    public ValidateOptionsResult Validate(string? name, TlsOptions options) =>
        new OptionsErrors(TlsOptions.SectionName)
            .Require(!options.IsConfigured || File.Exists(options.CertificatePath), nameof(options.CertificatePath), "names a file that does not exist")
            .Require(options.KeyPath is null || File.Exists(options.KeyPath), nameof(options.KeyPath), "names a file that does not exist")
            .Positive(nameof(options.HstsMaxAge), options.HstsMaxAge)
            .Result();
}
