using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SignalRSecure.Tests.Infrastructure;

/// <summary>One log record as the server wrote it.</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}:{EventId.Name}] {Message} {Exception}";
}

/// <summary>A logger provider that keeps every record, at every level the server's filters let through.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyList<LogRecord> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose()
    {
    }

    public IEnumerable<LogRecord> WithEvent(string eventName) => Records.Where(r => r.EventId.Name == eventName);

    private sealed class CapturingLogger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
