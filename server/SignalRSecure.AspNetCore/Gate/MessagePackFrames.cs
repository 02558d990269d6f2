using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// Reads frames of the SignalR MessagePack protocol received before authentication: the varint length prefix, then
/// the message array, as SignalR's <c>BinaryMessageParser</c> and <c>MessagePackHubProtocolWorker</c> read them, and
/// classifies them like <see cref="PreAuthenticationFrames"/> classifies JSON ones.
/// </summary>
/// <remarks>
/// A parser in front of SignalR's: a frame passes only in the exact shapes the official clients write, which SignalR
/// reads exactly as the gate did. A ping is <c>[6]</c>; a close is <c>[7, error]</c> or <c>[7, error, allowReconnect]</c>
/// with a string or nil error; the Authenticate invocation is
/// <c>[1, headers, invocationId, "Authenticate", [ticket], []]</c>, or the same without its last item (as the JavaScript
/// client writes it), with distinct non-empty string headers, a non-empty string invocation id (Authenticate
/// answers), one string argument and no streams. Strings must be valid UTF-8 (SignalR would decode invalid bytes into
/// replacement characters). Elements SignalR ignores (more array items than a kind has, bytes after the array inside
/// the frame) and length prefixes it reads but no client writes (overlong varints) are refused.
/// </remarks>
internal static class MessagePackFrames
{
    /// <summary>The longest length prefix: five varint bytes carry up to 2 GB - 1, the most SignalR reads.</summary>
    public const int MaximumLengthPrefix = 5;

    // The message array, a field of it, a value inside a field (an argument or a header), one more level inside that:
    // as deep as the JSON reader goes (its MaxDepth of 4). Anything deeper is refused unread.
    private const int MaximumDepth = 4;

    private static readonly byte[] AuthenticateTarget = Encoding.UTF8.GetBytes(nameof(SecureHub<object>.Authenticate));

    /// <summary>
    /// Reads the length prefix at the start of <paramref name="buffer"/>: <see cref="OperationStatus.Done"/> with its
    /// size and the payload length it announces, <see cref="OperationStatus.NeedMoreData"/> when the prefix has not
    /// fully arrived, or <see cref="OperationStatus.InvalidData"/> for a prefix SignalR would refuse (over 2 GB) or an
    /// overlong encoding (a final zero byte after others).
    /// </summary>
    public static OperationStatus ReadLengthPrefix(ReadOnlySequence<byte> buffer, out int prefixLength, out int payloadLength)
    {
        prefixLength = 0;
        payloadLength = 0;
        var reader = new SequenceReader<byte>(buffer);
        var value = 0U;
        for (var i = 0; i < MaximumLengthPrefix; i++)
        {
            if (!reader.TryRead(out var next))
            {
                return OperationStatus.NeedMoreData;
            }

            // Stryker disable once Assignment: equivalent for ^=, each byte's seven bits go to bits no earlier byte set (the value starts at zero), so XOR and OR agree; the &= it also skips is killed by the prefix tests
            value |= (uint)(next & 0x7f) << (7 * i);
            if ((next & 0x80) != 0)
            {
                continue;
            }

            if ((i == MaximumLengthPrefix - 1 && next > 7) || (i > 0 && next == 0))
            {
                return OperationStatus.InvalidData;
            }

            prefixLength = i + 1;
            payloadLength = (int)value;
            return OperationStatus.Done;
        }

        // A fifth byte that announces a sixth: SignalR refuses it as a message over 2 GB.
        return OperationStatus.InvalidData;
    }

    /// <summary>Classifies one frame's payload, its length prefix excluded.</summary>
    public static PreAuthenticationFrame Classify(ReadOnlySequence<byte> payload)
    {
        // Frames before authentication are small (PreAuthenticationMaximumMessageSize); one split across segments is rare.
        // Stryker disable once Conditional: equivalent, the copy holds the same bytes as the single segment it copies
        var reader = new Reader(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());
        if (!reader.TryReadArrayHeader(out var count) || count == 0 || !reader.TryReadInt32(out var type))
        {
            return PreAuthenticationFrame.Malformed;
        }

        return type switch
        {
            1 => ClassifyInvocation(ref reader, count),
            2 => PreAuthenticationFrame.StreamItem,
            3 => PreAuthenticationFrame.Completion,
            4 => PreAuthenticationFrame.StreamInvocation,
            5 => PreAuthenticationFrame.CancelInvocation,
            6 => count == 1 && reader.End ? PreAuthenticationFrame.Ping : PreAuthenticationFrame.Malformed,
            7 => ClassifyClose(ref reader, count),
            _ => PreAuthenticationFrame.Other,
        };
    }

    private static PreAuthenticationFrame ClassifyClose(ref Reader reader, long count)
    {
        // SignalR reads the error, then allowReconnect only when the array has a third item.
        if (count is not (2 or 3) || !reader.TryReadStringOrNil(out _))
        {
            return PreAuthenticationFrame.Malformed;
        }

        return (count == 2 || reader.TryReadBoolean()) && reader.End ? PreAuthenticationFrame.Close : PreAuthenticationFrame.Malformed;
    }

    private static PreAuthenticationFrame ClassifyInvocation(ref Reader reader, long count)
    {
        // [1, headers, invocationId, target, arguments, streamIds]: without a target it is no call of anything.
        var defective = false;
        if (count < 4 || !TryReadHeaders(ref reader, ref defective))
        {
            return PreAuthenticationFrame.Malformed;
        }

        // Stryker disable once Boolean: equivalent, it stays at this value only when the invocation id is no string or nil, which marks the frame defective (or unreadable) anyway
        var hasInvocationId = false;
        if (reader.TryReadStringOrNil(out var invocationId))
        {
            // SignalR reads an empty invocation id as none: a call nobody waits for.
            hasInvocationId = !invocationId.IsEmpty;
        }
        else if (!reader.TrySkip(depth: 2))
        // Stryker disable once Block: equivalent, nothing reads past a value that cannot be skipped, so the target read at its place fails and refuses the frame as malformed too
        {
            return PreAuthenticationFrame.Malformed;
        }
        else
        // Stryker disable once Block: equivalent, an invocation id that is no string leaves hasInvocationId false, which refuses the Authenticate too
        {
            // Stryker disable once Boolean: equivalent, an invocation id that is no string leaves hasInvocationId false, which refuses the Authenticate too
            defective = true;
        }

        if (!reader.TryReadString(out var target))
        {
            return PreAuthenticationFrame.Malformed;
        }

        if (!target.SequenceEqual(AuthenticateTarget))
        {
            return PreAuthenticationFrame.Invocation;
        }

        // From here on an Authenticate: whatever is wrong with it counts as a failed attempt.
        var strings = 0;
        var others = 0;
        if (count >= 5 && !TryReadArguments(ref reader, ref strings, ref others, ref defective))
        {
            return PreAuthenticationFrame.Malformed;
        }

        if (count >= 6 && !TryReadNoStreams(ref reader, ref defective))
        {
            return PreAuthenticationFrame.Malformed;
        }

        for (var extra = count - 6; extra > 0; extra--)
        {
            defective = true;
            if (!reader.TrySkip(depth: 2))
            {
                return PreAuthenticationFrame.Malformed;
            }
        }

        if (!reader.End)
        {
            return PreAuthenticationFrame.Malformed;
        }

        // Five items is the same call without the stream ids: the JavaScript client writes it so, and SignalR reads it so.
        return count >= 5 && !defective && hasInvocationId && strings == 1 && others == 0
            ? PreAuthenticationFrame.Authenticate
            : PreAuthenticationFrame.MalformedAuthenticate;
    }

    /// <summary>Reads the headers map; false when the frame cannot be read on, <paramref name="defective"/> when SignalR would fail on it.</summary>
    private static bool TryReadHeaders(ref Reader reader, ref bool defective)
    {
        if (!reader.TryReadMapHeader(out var count))
        {
            defective = true;
            return reader.TrySkip(depth: 2);
        }

        HashSet<string>? names = null;
        for (var i = 0L; i < count; i++)
        {
            // SignalR refuses an empty or nil key or value, and a key twice.
            if (!TryReadHeaderString(ref reader, ref defective, out var key) || !TryReadHeaderString(ref reader, ref defective, out _))
            {
                return false;
            }

            defective |= key is not null && !(names ??= new(StringComparer.Ordinal)).Add(key);
        }

        return true;
    }

    /// <summary>Reads a header key or value: null (and <paramref name="defective"/>) unless a non-empty string.</summary>
    private static bool TryReadHeaderString(ref Reader reader, ref bool defective, out string? value)
    {
        value = null;
        if (reader.TryReadString(out var text))
        {
            value = text.IsEmpty ? null : Encoding.UTF8.GetString(text);
        }
        else if (!reader.TrySkip(depth: 3))
        {
            return false;
        }

        defective |= value is null;
        return true;
    }

    private static bool TryReadArguments(ref Reader reader, ref int strings, ref int others, ref bool defective)
    {
        if (!reader.TryReadArrayHeader(out var count))
        {
            // Stryker disable once Boolean: equivalent, arguments that are no array leave the string count at 0, which refuses the Authenticate too
            defective = true;
            return reader.TrySkip(depth: 2);
        }

        for (var i = 0L; i < count; i++)
        {
            if (reader.TryReadString(out _))
            {
                strings++;
                continue;
            }

            // Stryker disable once Update: equivalent for --, the count moves away from 0 either way and the verdict asks only whether it is 0
            others++;
            if (!reader.TrySkip(depth: 3))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryReadNoStreams(ref Reader reader, ref bool defective)
    {
        if (!reader.TryReadArrayHeader(out var count))
        {
            defective = true;
            return reader.TrySkip(depth: 2);
        }

        for (var i = 0L; i < count; i++)
        {
            defective = true;
            if (!reader.TrySkip(depth: 3))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads MessagePack values from a whole frame. Each method consumes the value only when it has the type asked
    /// for and is complete; otherwise it returns false and leaves the position where it was.
    /// </summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public readonly bool End => _rest.IsEmpty;

        public bool TryReadArrayHeader(out long count) => TryReadHeader(0x90, 0xdc, 0xdd, out count);

        public bool TryReadMapHeader(out long count) => TryReadHeader(0x80, 0xde, 0xdf, out count);

        /// <summary>Any integer encoding, as SignalR's <c>ReadInt32</c> reads it, whose value fits in an Int32.</summary>
        public bool TryReadInt32(out int value)
        {
            value = 0;
            if (_rest.IsEmpty)
            {
                return false;
            }

            var code = _rest[0];
            long number;
            int size;
            switch (code)
            {
                case <= 0x7f:
                    (number, size) = (code, 1);
                    break;
                case >= 0xe0:
                    (number, size) = ((sbyte)code, 1);
                    break;
                case 0xcc or 0xd0 when _rest.Length >= 2:
                    // Stryker disable once Equality,Conditional: equivalent, a byte read signed or unsigned is an Int32 either way and the same for the types 1 to 7
                    (number, size) = (code == 0xcc ? (long)_rest[1] : (sbyte)_rest[1], 2);
                    break;
                case 0xcd or 0xd1 when _rest.Length >= 3:
                    var u16 = BinaryPrimitives.ReadUInt16BigEndian(_rest[1..]);
                    // Stryker disable once Equality,Conditional: equivalent, 16 bits read signed or unsigned are an Int32 either way and the same for the types 1 to 7
                    (number, size) = (code == 0xcd ? (long)u16 : (short)u16, 3);
                    break;
                case 0xce or 0xd2 when _rest.Length >= 5:
                    var u32 = BinaryPrimitives.ReadUInt32BigEndian(_rest[1..]);
                    (number, size) = (code == 0xce ? (long)u32 : (int)u32, 5);
                    break;
                case 0xcf or 0xd3 when _rest.Length >= 9:
                    var u64 = BinaryPrimitives.ReadUInt64BigEndian(_rest[1..]);
                    if (code == 0xcf && u64 > int.MaxValue)
                    {
                        return false;
                    }

                    (number, size) = ((long)u64, 9);
                    break;
                default:
                    return false;
            }

            if (number is < int.MinValue or > int.MaxValue)
            {
                return false;
            }

            value = (int)number;
            _rest = _rest[size..];
            return true;
        }

        public bool TryReadBoolean()
        {
            if (_rest.IsEmpty || _rest[0] is not (0xc2 or 0xc3))
            {
                return false;
            }

            _rest = _rest[1..];
            return true;
        }

        /// <summary>A string (any str encoding) of valid UTF-8.</summary>
        public bool TryReadString(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!TryReadLength(0xa0, 0x1f, 0xd9, 0xda, 0xdb, out var headerSize, out var length)
                || _rest.Length - headerSize < length)
            {
                return false;
            }

            var text = _rest.Slice(headerSize, (int)length);
            if (!Utf8.IsValid(text))
            {
                return false;
            }

            value = text;
            _rest = _rest[(headerSize + (int)length)..];
            return true;
        }

        /// <summary>A string of valid UTF-8, or nil (read as empty).</summary>
        public bool TryReadStringOrNil(out ReadOnlySpan<byte> value)
        {
            if (!_rest.IsEmpty && _rest[0] == 0xc0)
            {
                value = default;
                _rest = _rest[1..];
                return true;
            }

            return TryReadString(out value);
        }

        /// <summary>Skips one value of any type, containers at most <see cref="MaximumDepth"/> deep counting from the message array.</summary>
        public bool TrySkip(int depth)
        {
            var saved = _rest;
            if (SkipValue(depth))
            {
                return true;
            }

            _rest = saved;
            return false;
        }

        private bool SkipValue(int depth)
        {
            if (_rest.IsEmpty)
            {
                return false;
            }

            var code = _rest[0];
            if (TryReadHeader(0x90, 0xdc, 0xdd, out var items) || TryReadHeader(0x80, 0xde, 0xdf, out items))
            {
                if (depth > MaximumDepth)
                {
                    return false;
                }

                // A map holds a key and a value per entry.
                // Stryker disable once Equality: equivalent for > 0x80, the fixmap 0x80 has no entries to double; the < 0x8f it also skips is killed by the SkippedValues row of a 15-entry fixmap
                var values = code is (>= 0x80 and <= 0x8f) or 0xde or 0xdf ? items * 2 : items;
                for (var i = 0L; i < values; i++)
                {
                    if (!SkipValue(depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            }

            long size = code switch
            {
                <= 0x7f or >= 0xe0 or 0xc0 or 0xc2 or 0xc3 => 1,
                0xcc or 0xd0 => 2,
                0xcd or 0xd1 => 3,
                0xca or 0xce or 0xd2 => 5,
                0xcb or 0xcf or 0xd3 => 9,
                0xd4 => 3,
                0xd5 => 4,
                0xd6 => 6,
                0xd7 => 10,
                0xd8 => 18,
                _ => -1,
            };
            // Stryker disable once Equality: equivalent for <=, no code has a size of 0 (the sizes are 1 to 18, or -1 for "carries its length"); the > it also skips is killed by the SkippedValues tests
            if (size < 0)
            {
                // Strings, binary and extensions carry their length; 0xc1 is never used.
                if (TryReadLength(0xa0, 0x1f, 0xd9, 0xda, 0xdb, out var header, out var length)
                    || TryReadLength(0x00, 0x00, 0xc4, 0xc5, 0xc6, out header, out length))
                {
                    size = header + length;
                }
                else if (TryReadLength(0x00, 0x00, 0xc7, 0xc8, 0xc9, out header, out length))
                {
                    // An extension's type byte follows its length.
                    size = header + 1 + length;
                }
                else
                {
                    return false;
                }
            }

            if (_rest.Length < size)
            {
                return false;
            }

            _rest = _rest[(int)size..];
            return true;
        }

        private bool TryReadHeader(byte fixBase, byte code16, byte code32, out long count)
        {
            count = 0;
            if (!TryReadLength(fixBase, 0x0f, 0, code16, code32, out var headerSize, out count))
            {
                return false;
            }

            _rest = _rest[headerSize..];
            return true;
        }

        /// <summary>
        /// Reads the length of a value whose type is a fix code (<paramref name="fixBase"/> plus a length up to
        /// <paramref name="fixMask"/>), or an 8-, 16- or 32-bit length after its code (a code of 0 is not used);
        /// consumes nothing.
        /// </summary>
        private readonly bool TryReadLength(byte fixBase, byte fixMask, byte code8, byte code16, byte code32, out int headerSize, out long length)
        {
            (headerSize, length) = (0, 0);
            if (_rest.IsEmpty)
            {
                return false;
            }

            var code = _rest[0];
            if (fixMask != 0 && code >= fixBase && code <= fixBase + fixMask)
            {
                (headerSize, length) = (1, code & fixMask);
            }
            else if (code8 != 0 && code == code8 && _rest.Length >= 2)
            {
                (headerSize, length) = (2, _rest[1]);
            }
            else if (code16 != 0 && code == code16 && _rest.Length >= 3)
            {
                (headerSize, length) = (3, BinaryPrimitives.ReadUInt16BigEndian(_rest[1..]));
            }
            else if (code32 != 0 && code == code32 && _rest.Length >= 5)
            {
                (headerSize, length) = (5, BinaryPrimitives.ReadUInt32BigEndian(_rest[1..]));
            }
            else
            {
                return false;
            }

            return true;
        }
    }
}
