using System.Text.Json;

namespace SignalRSecure.Bench.Targets;

/// <summary>
/// The runtime settings every .NET server of a comparison runs with. The real server (G) ships some in its
/// <c>runtimeconfig.json</c> (quick JIT off, and whatever else its project sets); A, B and C get the same as environment
/// variables, so that a ratio G/A measures the gate and not a JIT or GC setting that only one side has. Named host
/// settings (<c>--host</c>) then apply to all four alike.
/// </summary>
internal static class RuntimeSettings
{
    /// <summary>runtimeconfig.json properties that change how fast a server runs, and the variable that sets each.</summary>
    private static readonly Dictionary<string, string> Variables = new(StringComparer.Ordinal)
    {
        ["System.Runtime.TieredCompilation"] = "DOTNET_TieredCompilation",
        ["System.Runtime.TieredCompilation.QuickJit"] = "DOTNET_TC_QuickJit",
        ["System.Runtime.TieredCompilation.QuickJitForLoops"] = "DOTNET_TC_QuickJitForLoops",
        ["System.Runtime.TieredPGO"] = "DOTNET_TieredPGO",
        ["System.GC.Server"] = "DOTNET_gcServer",
        ["System.GC.Concurrent"] = "DOTNET_gcConcurrent",
        ["System.GC.RetainVM"] = "DOTNET_GCRetainVM",
        ["System.GC.ConserveMemory"] = "DOTNET_GCConserveMemory",
        ["System.GC.DynamicAdaptationMode"] = "DOTNET_GCDynamicAdaptationMode",
    };

    /// <summary>The host settings <c>--host</c> can name, each a set of environment variables for every .NET server.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal)
        {
            // Socket completions run on the epoll thread, and Kestrel (which reads the same variable in these servers,
            // as in the TechEmpower benchmarks) schedules its pipes inline instead of on its I/O queues.
            ["inline"] = new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" },
            ["server-gc"] = new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" },
            ["workstation-gc"] = new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" },
            ["no-concurrent-gc"] = new Dictionary<string, string> { ["DOTNET_gcConcurrent"] = "0" },
            ["gen0-64mb"] = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x4000000" },
            ["gen0-256mb"] = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x10000000" },
            ["pgo-off"] = new Dictionary<string, string> { ["DOTNET_TieredPGO"] = "0" },
            ["quick-jit"] = new Dictionary<string, string> { ["DOTNET_TC_QuickJit"] = "1" },
            ["no-quick-jit"] = new Dictionary<string, string> { ["DOTNET_TC_QuickJit"] = "0" },
        };

    /// <summary>
    /// The variables that give a server the settings of <paramref name="runtimeConfig"/> (G's); empty when the file is
    /// missing. Only the properties in <see cref="Variables"/> count: globalization and the like do not change speed.
    /// </summary>
    public static IReadOnlyDictionary<string, string> FromRuntimeConfig(string runtimeConfig)
    {
        var variables = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(runtimeConfig))
        {
            return variables;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        if (!document.RootElement.TryGetProperty("runtimeOptions", out var options)
            || !options.TryGetProperty("configProperties", out var properties))
        {
            return variables;
        }

        foreach (var property in properties.EnumerateObject())
        {
            if (Variables.TryGetValue(property.Name, out var variable))
            {
                variables[variable] = property.Value.ValueKind switch
                {
                    JsonValueKind.True => "1",
                    JsonValueKind.False => "0",
                    _ => property.Value.ToString(),
                };
            }
        }

        return variables;
    }

    /// <summary>The variables of the named presets, later ones winning; throws on an unknown name.</summary>
    public static IReadOnlyDictionary<string, string> OfPresets(IEnumerable<string> names)
    {
        var variables = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!Presets.TryGetValue(name, out var preset))
            {
                throw new ArgumentException($"unknown host setting '{name}'; known: {string.Join(", ", Presets.Keys)}");
            }

            foreach (var (key, value) in preset)
            {
                variables[key] = value;
            }
        }

        return variables;
    }
}
