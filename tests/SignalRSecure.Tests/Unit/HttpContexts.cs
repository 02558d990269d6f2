using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>Requests for the HTTP edge's unit tests: a <see cref="DefaultHttpContext"/> with a readable response body.</summary>
internal static class HttpContexts
{
    /// <summary>
    /// A request from <paramref name="remoteIp"/> whose response body is a <see cref="MemoryStream"/>; services hold a
    /// logger factory that writes to <paramref name="logs"/> when given.
    /// </summary>
    public static DefaultHttpContext Request(
        string method = "GET", string path = "/", string remoteIp = "203.0.113.7", CapturedLogs? logs = null, bool https = false)
    {
        var services = new ServiceCollection().AddLogging(builder =>
        {
            builder.SetMinimumLevel(LogLevel.Trace);
            if (logs is not null)
            {
                builder.AddProvider(logs);
            }
        });
        var context = new DefaultHttpContext { RequestServices = services.BuildServiceProvider() };
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Scheme = https ? "https" : "http";
        context.Request.IsHttps = https;
        context.Request.Host = new HostString("chat.example");
        context.Connection.RemoteIpAddress = IPAddress.Parse(remoteIp);
        context.Response.Body = new MemoryStream();
        return context;
    }

    /// <summary>Gives <paramref name="context"/> a JSON request body.</summary>
    public static DefaultHttpContext WithJson(this DefaultHttpContext context, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        return context;
    }

    /// <summary>What was written to the response body.</summary>
    public static string ResponseText(this HttpContext context) =>
        Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    /// <summary>The <c>error</c> field of the JSON error body written to the response.</summary>
    public static string? ResponseError(this HttpContext context)
    {
        using var json = JsonDocument.Parse(context.ResponseText());
        return json.RootElement.GetProperty("error").GetString();
    }
}
