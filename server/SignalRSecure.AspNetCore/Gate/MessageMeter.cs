using System.Buffers;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Counts the messages an authenticated connection sends, and measures the one still arriving, from the reads SignalR
/// makes: each byte is looked at once, however often SignalR reads it again while it waits for a whole message.
/// </summary>
/// <remarks>A mutable struct kept inside the connection's <see cref="GateReader"/>; not thread-safe (one reader per connection).</remarks>
internal struct MessageMeter
{
    private const byte RecordSeparator = 0x1e;

    private ReadOnlySequence<byte> _returned;
    private bool _awaitingAdvance;
    private long _examined;
    private long _messageLength;

    /// <summary>
    /// Looks at the bytes of <paramref name="buffer"/> not seen before: returns the messages they complete, and whether
    /// a message (its separator included) is longer than <paramref name="maximumSize"/> bytes, or will be.
    /// </summary>
    public int Measure(ReadOnlySequence<byte> buffer, long maximumSize, out bool oversized)
    {
        oversized = false;
        var messages = 0;
        foreach (var segment in buffer.Slice(_examined))
        {
            var span = segment.Span;
            int separator;
            while ((separator = span.IndexOf(RecordSeparator)) >= 0)
            {
                oversized |= _messageLength + separator + 1 > maximumSize;
                messages++;
                _messageLength = 0;
                span = span[(separator + 1)..];
            }

            _messageLength += span.Length;
        }

        // A message that has not ended is refused as soon as its separator could no longer fit.
        oversized |= _messageLength >= maximumSize;
        _returned = buffer;
        _awaitingAdvance = true;
        _examined = buffer.Length;
        return messages;
    }

    /// <summary>Notes how much of the last measured buffer SignalR consumed; the rest comes back in the next read, already seen.</summary>
    public void Advanced(SequencePosition consumed)
    {
        if (!_awaitingAdvance)
        {
            return;
        }

        // GetOffset counts from the start of the underlying memory (or of the first segment ever written), not from the
        // start of this sequence, so the start's own offset is taken off.
        _examined = _returned.Length - (_returned.GetOffset(consumed) - _returned.GetOffset(_returned.Start));
        _returned = default;
        _awaitingAdvance = false;
    }
}
