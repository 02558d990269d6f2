namespace SignalRSecure.Server.Telemetry;

/// <summary>
/// Where the server's metrics can be scraped. Bound from <see cref="SectionName"/>. OTLP export needs no option here:
/// it is on when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SignalRSecure:Metrics";

    /// <summary>The default of <see cref="PrometheusHost"/>: loopback only.</summary>
    public const string DefaultPrometheusHost = "localhost";

    /// <summary>The default of <see cref="PrometheusPort"/>, the port registered for OpenTelemetry's Prometheus exporter.</summary>
    public const int DefaultPrometheusPort = 9464;

    /// <summary>
    /// Serves the metrics in Prometheus text format at <c>http://PrometheusHost:PrometheusPort/metrics</c>, on a listener
    /// of its own, never on the app's public port. The default is false.
    /// </summary>
    public bool Prometheus { get; set; }

    /// <summary>
    /// The host name or address the scrape listener binds to. The default is <c>localhost</c>: metrics are not for the
    /// public; another value exposes them to whoever reaches that port, so keep it behind the network's access controls.
    /// </summary>
    public string PrometheusHost { get; set; } = DefaultPrometheusHost;

    /// <summary>The port of the scrape listener; it must differ from the app's own ports. The default is 9464.</summary>
    public int PrometheusPort { get; set; } = DefaultPrometheusPort;
}
