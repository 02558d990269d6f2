namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// Tests that read the server's metrics run in this collection, alone, after the parallel ones: OpenTelemetry listens
/// to meters by name across the whole process, so with other servers running (and shutting down) beside it, a scrape
/// would count, and then lose, their instruments too.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetry
{
    public const string Name = "Process-wide telemetry";
}
