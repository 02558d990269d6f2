using SignalRSecure.Bench.Comparison;

return await BenchCommand.RunAsync(args, Console.Out);
