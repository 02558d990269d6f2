using System.Buffers;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Counts the messages an authenticated connection sends, and measures the one still arriving, from the reads SignalR
/// makes: each byte is looked at once, however often SignalR reads it again while it waits for a whole message.
/// </summary>
/// <remarks>
/// A mutable struct kept inside the connection's <see cref="GateReader"/>; not thread-safe (one reader per connection).
/// JSON messages end with <c>0x1e</c>; MessagePack messages start with their length as a varint, and a message is
/// measured with that prefix, as SignalR measures it against its own maximum.
/// </remarks>
/// <param name="lengthPrefixed">Whether messages are MessagePack frames (length-prefixed) rather than JSON ones.</param>
internal struct MessageMeter(bool lengthPrefixed)
{
    private const byte RecordSeparator = 0x1e;

    private readonly bool _lengthPrefixed = lengthPrefixed;
    private ReadOnlySequence<byte> _returned;
    private bool _awaitingAdvance;
    private long _examined;
    private long _messageLength;

    // MessagePack: the prefix bytes of the message being read and the value they carry so far, then its payload left.
    private int _prefixBytes;
    private long _prefixValue;
    private long _payloadLeft;
    private bool _inPayload;

    public MessageMeter()
        : this(lengthPrefixed: false)
    {
    }

    /// <summary>
    /// Looks at the bytes of <paramref name="buffer"/> not seen before: returns the messages they complete, and whether
    /// a message (its separator included) is longer than <paramref name="maximumSize"/> bytes, or will be.
    /// </summary>
    public int Measure(ReadOnlySequence<byte> buffer, long maximumSize, out bool oversized)
    {
        var messages = _lengthPrefixed ? MeasurePrefixed(buffer.Slice(_examined), maximumSize, out oversized) : MeasureSeparated(buffer, maximumSize, out oversized);
        _returned = buffer;
        _awaitingAdvance = true;
        _examined = buffer.Length;
        return messages;
    }

    private int MeasureSeparated(ReadOnlySequence<byte> buffer, long maximumSize, out bool oversized)
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
        return messages;
    }

    private int MeasurePrefixed(ReadOnlySequence<byte> unseen, long maximumSize, out bool oversized)
    {
        oversized = false;
        var messages = 0;
        foreach (var segment in unseen)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                if (_inPayload)
                {
                    var taken = (int)Math.Min(span.Length, _payloadLeft);
                    span = span[taken..];
                    _payloadLeft -= taken;
                }
                else
                {
                    var next = span[0];
                    span = span[1..];
                    // Stryker disable once Assignment: equivalent for ^=, each byte's seven bits go to bits no earlier byte of the prefix set (the value starts at zero), so XOR and OR agree; the &= it also skips is killed by the prefix tests
                    _prefixValue |= (long)(next & 0x7f) << (7 * _prefixBytes);
                    _prefixBytes++;
                    if ((next & 0x80) != 0)
                    {
                        // SignalR refuses a prefix longer than five bytes as a message over 2 GB.
                        if (_prefixBytes == MessagePackFrames.MaximumLengthPrefix)
                        {
                            oversized = true;
                            return messages;
                        }

                        continue;
                    }

                    // Refused as soon as the prefix announces more than fits, before the payload arrives; a fifth
                    // byte over 7 (over 2 GB, refused by SignalR too) always does.
                    if (_prefixBytes + _prefixValue > maximumSize || (_prefixBytes == MessagePackFrames.MaximumLengthPrefix && next > 7))
                    {
                        oversized = true;
                        return messages;
                    }

                    _payloadLeft = _prefixValue;
                    _inPayload = true;
                    _prefixBytes = 0;
                    _prefixValue = 0;
                }

                if (_inPayload && _payloadLeft == 0)
                {
                    messages++;
                    _inPayload = false;
                }
            }
        }

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
