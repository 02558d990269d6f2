using SignalRSecure.Server;

if (args is [HashPasswordCommand.Verb])
{
    return HashPasswordCommand.Run(Console.In, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddChatServer();

var app = builder.Build();
app.MapChatServer();
await app.RunAsync();
return 0;
