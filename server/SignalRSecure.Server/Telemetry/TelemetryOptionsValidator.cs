using Microsoft.Extensions.Options;

namespace SignalRSecure.Server.Telemetry;

/// <summary>Fails start-up on a scrape listener that cannot be bound as configured, naming the configuration key.</summary>
internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        List<string> errors = [];
        if (options.PrometheusPort is < 1 or > 65_535)
        {
            errors.Add($"{TelemetryOptions.SectionName}:{nameof(options.PrometheusPort)} must be a port from 1 to 65535.");
        }

        // A host name or an address, not a URL: the listener builds its prefix from it.
        if (string.IsNullOrWhiteSpace(options.PrometheusHost) || Uri.CheckHostName(options.PrometheusHost) == UriHostNameType.Unknown)
        {
            errors.Add($"{TelemetryOptions.SectionName}:{nameof(options.PrometheusHost)} must be a host name or an IP address.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
