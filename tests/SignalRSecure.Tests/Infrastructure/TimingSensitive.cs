namespace SignalRSecure.Tests.Infrastructure;

/// <summary>
/// Tests that check wall-clock deadlines or compare durations run in this collection, alone, after the parallel
/// ones, so that a neighbour's load (the fuzzer, the flood) cannot push them over their bounds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "Timing-sensitive";
}
