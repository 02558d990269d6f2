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
    private readonly Lock _waitersLock = new();
    private readonly List<(Func<LogRecord, bool> Match, TaskCompletionSource<LogRecord> Found)> _waiters = [];

    public IReadOnlyList<LogRecord> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose()
    {
    }

    public IEnumerable<LogRecord> WithEvent(string eventName) => Records.Where(r => r.EventId.Name == eventName);

    /// <summary>The first record, past or future, that matches; fails after <paramref name="timeout"/> (10 s by default).</summary>
    public Task<LogRecord> WaitForAsync(Func<LogRecord, bool> match, TimeSpan? timeout = null)
    {
        var found = new TaskCompletionSource<LogRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock)
        {
            if (_records.FirstOrDefault(match) is { } existing)
            {
                return Task.FromResult(existing);
            }

            _waiters.Add((match, found));
        }

        return found.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
    }

    private void Add(LogRecord record)
    {
        lock (_waitersLock)
        {
            _records.Enqueue(record);
            foreach (var waiter in _waiters.Where(w => w.Match(record)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Found.TrySetResult(record);
            }
        }
    }

    private sealed class CapturingLogger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
