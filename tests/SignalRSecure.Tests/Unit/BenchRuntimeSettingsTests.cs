using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The runtime settings the server ships in its runtimeconfig.json, and the benchmark's launcher giving every .NET
/// server the same ones (bench/), so that a ratio G/A measures the gate and not a setting only one side has.
/// </summary>
public sealed class BenchRuntimeSettingsTests
{
    // The build copies a referenced app's runtimeconfig.json beside the tests, as built from its project file.
    private static readonly string ShippedRuntimeConfig = Path.Combine(AppContext.BaseDirectory, "SignalRSecure.Server.runtimeconfig.json");

    [Fact]
    public void ShippedRuntimeConfig_AsBuilt_TurnsOffBackgroundGcAndQuickJit()
    {
        // Act
        var variables = RuntimeSettings.FromRuntimeConfig(ShippedRuntimeConfig);

        // Assert: without background GC, workstation GC's gen0 budget is not capped at 6 MB (a flood of pending
        // connections collected every few MB); quick JIT off, so that the gate's own code is optimized from its first call.
        Assert.Equal("0", variables["DOTNET_gcConcurrent"]);
        Assert.Equal("0", variables["DOTNET_TC_QuickJit"]);
    }

    [Fact]
    public void FromRuntimeConfig_SpeedSettings_BecomeVariablesAndTheRestIsLeftOut()
    {
        // Arrange
        var file = Path.Combine(Path.GetTempPath(), $"runtimeconfig-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """
            {"runtimeOptions":{"configProperties":{
              "System.GC.Server": true,
              "System.GC.Concurrent": false,
              "System.Runtime.TieredPGO": false,
              "System.Globalization.Invariant": true
            }}}
            """);

        try
        {
            // Act
            var variables = RuntimeSettings.FromRuntimeConfig(file);

            // Assert
            Assert.Equal(new Dictionary<string, string>
            {
                ["DOTNET_gcConcurrent"] = "0",
                ["DOTNET_gcServer"] = "1",
                ["DOTNET_TieredPGO"] = "0",
            }, variables);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void FromRuntimeConfig_NoFile_NoVariables()
    {
        // Act and assert
        Assert.Empty(RuntimeSettings.FromRuntimeConfig(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.json")));
    }

    [Fact]
    public void OfPresets_LaterPresetWins_AndAnUnknownNameIsRefused()
    {
        // Act
        var variables = RuntimeSettings.OfPresets(["quick-jit", "no-quick-jit", "inline"]);

        // Assert
        Assert.Equal("0", variables["DOTNET_TC_QuickJit"]);
        Assert.Equal("1", variables["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"]);
        Assert.Throws<ArgumentException>(() => RuntimeSettings.OfPresets(["turbo"]));
    }
}
