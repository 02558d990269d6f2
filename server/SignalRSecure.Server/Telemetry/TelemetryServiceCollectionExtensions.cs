using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SignalRSecure.AspNetCore.Diagnostics;
using SignalRSecure.Server.Telemetry;

namespace Microsoft.AspNetCore.Builder;

/// <summary>OpenTelemetry for the chat server: what an operations team's collector or Prometheus reads.</summary>
public static class TelemetryServiceCollectionExtensions
{
    // ASP.NET Core's own meters: requests, Kestrel connections and TLS handshakes, SignalR's connections and transports.
    private static readonly string[] AspNetCoreMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
    ];

    /// <summary>
    /// Adds OpenTelemetry with the <c>SignalRSecure</c> meter and activity source, ASP.NET Core's meters and request
    /// traces; exports over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the other standard <c>OTEL_*</c>
    /// settings apply), and serves a Prometheus scrape endpoint when <c>SignalRSecure:Metrics:Prometheus</c> is on.
    /// Without either, nothing is collected.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <returns>The application builder.</returns>
    /// <exception cref="OptionsValidationException">The <c>SignalRSecure:Metrics</c> section is invalid.</exception>
    public static WebApplicationBuilder AddChatTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Read now rather than on first use: the exporters are chosen while the services are built.
        var options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var validation = new TelemetryOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), validation.Failures);
        }

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!otlp && !options.Prometheus)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(SecureHubMetrics.MeterName).AddMeter(AspNetCoreMeters);
                if (options.Prometheus)
                {
                    metrics.AddPrometheusHttpListener(listener =>
                    {
                        listener.Host = options.PrometheusHost;
                        listener.Port = options.PrometheusPort;

                        // Every scrape sees the counters as they are, not a copy up to 300 ms old.
                        listener.ScrapeResponseCacheDurationMilliseconds = 0;
                    });
                }
            });
        if (otlp)
        {
            // Traces go only where a collector is configured: a scrape endpoint has no use for them. The request
            // instrumentation redacts query string values (no ticket is ever in a URL anyway).
            telemetry.WithTracing(tracing => tracing.AddSource(SecureHubTracing.ActivitySourceName).AddAspNetCoreInstrumentation());
            telemetry.UseOtlpExporter();
        }

        return builder;
    }
}
