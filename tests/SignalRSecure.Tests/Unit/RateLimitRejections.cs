using System.Diagnostics.Metrics;

namespace SignalRSecure.Tests.Unit;

/// <summary>Counts the <c>signalrsecure.ratelimit.rejections</c> of one meter factory, by their <c>limit</c> tag.</summary>
internal sealed class RateLimitRejections : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _byLimit = [];

    public RateLimitRejections(IMeterFactory meters)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name == "signalrsecure.ratelimit.rejections")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            lock (_byLimit)
            {
                foreach (var tag in tags)
                {
                    _byLimit[$"{tag.Value}"] = _byLimit.GetValueOrDefault($"{tag.Value}") + value;
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Rejections counted under <paramref name="limit"/>.</summary>
    public long Of(string limit)
    {
        lock (_byLimit)
        {
            return _byLimit.GetValueOrDefault(limit);
        }
    }

    /// <summary>Rejections counted under any limit.</summary>
    public long Total
    {
        get
        {
            lock (_byLimit)
            {
                return _byLimit.Values.Sum();
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
