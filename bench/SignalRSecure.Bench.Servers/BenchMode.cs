namespace SignalRSecure.Bench.Servers;

/// <summary>The variants this project serves.</summary>
internal enum BenchMode
{
    /// <summary>A: a plain SignalR hub with the chat hub's methods and no authentication, over JSON or MessagePack.</summary>
    Plain,

    /// <summary>B: the same hub behind <c>[Authorize]</c>, with a bearer token in the <c>access_token</c> query string.</summary>
    Stock,

    /// <summary>C: raw Kestrel WebSockets that echo or broadcast what they receive.</summary>
    Raw,
}

/// <summary>Parses <c>--mode A|B|C</c>.</summary>
internal static class BenchModeParser
{
    public static BenchMode FromArguments(string[] args)
    {
        var index = Array.IndexOf(args, "--mode");
        var value = index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
        return value switch
        {
            "A" => BenchMode.Plain,
            "B" => BenchMode.Stock,
            "C" => BenchMode.Raw,
            _ => throw new ArgumentException("Pass --mode A (plain hub), B (stock authentication) or C (raw WebSockets)."),
        };
    }
}
