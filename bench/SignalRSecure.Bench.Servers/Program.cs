using SignalRSecure.Bench.Servers;

// One process per variant, chosen by --mode, so that every variant runs on the same Kestrel settings as the real server.
var mode = BenchModeParser.FromArguments(args);
var builder = WebApplication.CreateBuilder(args);
builder.AddBenchKestrel();
builder.Services.AddBenchVariant(mode, builder.Configuration);

var app = builder.Build();
app.MapBenchVariant(mode);
await app.RunAsync();
