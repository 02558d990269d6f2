using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using SignalRSecure.Contracts;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The gate at the byte level, between the transport and SignalR.
/// Until the connection authenticates, SignalR reads only the handshake, pings, a close and a single well-formed
/// <c>Authenticate</c> invocation, each within <see cref="SecureHubOptions.PreAuthenticationMaximumMessageSize"/> and
/// <see cref="SecureHubOptions.PreAuthenticationMaximumMessages"/> in all. Anything else never reaches SignalR: the
/// connection is closed instead, with <c>authentication failed</c> for an oversized message or a malformed
/// Authenticate (both count as failed attempts) and <c>authentication required</c> for any other message.
/// After authentication every message counts against <see cref="SecureHubOptions.MessagesPerSecond"/>, pings
/// included, and one longer than <see cref="SecureHubOptions.MaximumReceiveMessageSize"/> closes the connection with
/// <c>message too large</c> before SignalR reads it.
/// </summary>
/// <remarks>
/// Frames are read in the protocol the handshake chose (<see cref="ConnectionGate.Protocol"/>): JSON frames ended by
/// <c>0x1e</c> (<see cref="PreAuthenticationFrames"/>), or MessagePack frames after their varint length
/// (<see cref="MessagePackFrames"/>), with the same budget, the same classification and the same close reasons.
/// This sits below SignalR because hub filters never see unknown method names, stream items, completions or pings, and
/// because nothing after the Authenticate frame may be dispatched before the gate knows who the connection is.
/// <para>
/// An idle authenticated connection keeps one read pending for its whole life. The reader is that read's
/// <see cref="IValueTaskSource{TResult}"/> itself (the inner read, SignalR's continuation and one delegate, about
/// 140 bytes), instead of an async state machine of 256 bytes per connection.
/// </para>
/// </remarks>
internal sealed class GateReader(PipeReader inner, ConnectionGate gate, SecureHubOptions options) : PipeReader, IValueTaskSource<ReadResult>
{
    private const byte RecordSeparator = 0x1e;

    private MessageMeter _meter;
    private bool _meterReady;
    private int _messagesBeforeAuthentication;

    // Set once the reader has handed SignalR its final, synthetic result; later AdvanceTo calls refer to it.
    private bool _ended;

    // The authenticated read in progress: the inner read, and SignalR's continuation until the inner read completes.
    private ValueTask<ReadResult> _pendingRead;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private Action? _onPendingReadCompleted;
    private short _version;

    // Set when GetResult handed SignalR an empty result of its own, which SignalR advances past; the inner read was
    // already advanced.
    private bool _skipAdvance;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (gate.State != GateState.Authenticated)
        {
            return ReadGatedAsync(cancellationToken);
        }

        var read = inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            return TryMeterAuthenticated(read.Result) ? new(read.Result) : EndAsync();
        }

        _pendingRead = read;
        return new ValueTask<ReadResult>(this, _version);
    }

    // Every read goes through ReadAsync, where the frames are inspected or metered.
    public override bool TryRead(out ReadResult result)
    {
        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_skipAdvance)
        {
            // Stryker disable once Boolean: equivalent, a skip is set only on a closing gate, whose next read ends in EndAsync and sets _ended, which ignores every later advance too
            _skipAdvance = false;
            return;
        }

        if (!_ended)
        {
            _meter.Advanced(consumed);
            inner.AdvanceTo(consumed, examined);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token)
    {
        CheckToken(token);
        var read = _pendingRead;
        return !read.IsCompleted ? ValueTaskSourceStatus.Pending
            : read.IsCompletedSuccessfully ? ValueTaskSourceStatus.Succeeded
            : read.IsCanceled ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        CheckToken(token);
        _continuation = continuation;
        _continuationState = state;

        // One delegate for the reader's life; SignalR's continuation and its state sit in fields until the inner read completes.
        var completed = _onPendingReadCompleted ??= OnPendingReadCompleted;
        var captureContext = (flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0;
        var flowContext = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0;
        var awaiter = _pendingRead.ConfigureAwait(captureContext).GetAwaiter();
        if (flowContext)
        {
            awaiter.OnCompleted(completed);
        }
        else
        {
            awaiter.UnsafeOnCompleted(completed);
        }
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token)
    {
        CheckToken(token);
        var read = _pendingRead;
        _pendingRead = default;
        // Stryker disable once Update: equivalent, counting down gives every read a token of its own just as counting up does (both wrap after 65,536 reads)
        _version++;
        var result = read.GetAwaiter().GetResult();
        if (TryMeterAuthenticated(result))
        {
            return result;
        }

        // The gate is closing (a violation, or a close while the read waited) and the inner read is advanced. When
        // the close message is out (a close from outside sends it before it wakes the read), the read ends here as
        // EndAsync would end it. Otherwise SignalR gets an empty result, which it advances past (ignored here), and
        // its next read, which sees the gate closing, waits for the close message in EndAsync.
        if (gate.ReplyWritten.IsCompleted && gate.SendCloseMessageAsync().IsCompletedSuccessfully)
        {
            _ended = true;
            return new ReadResult(default, isCanceled: false, isCompleted: true);
        }

        _skipAdvance = true;
        return new ReadResult(default, isCanceled: false, isCompleted: false);
    }

    private void OnPendingReadCompleted()
    {
        var continuation = _continuation!;
        var state = _continuationState;
        _continuation = null;
        _continuationState = null;
        continuation(state);
    }

    private void CheckToken(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException("The read has already completed.");
        }
    }

    /// <summary>
    /// Meters an authenticated read: true lets SignalR have it; false means the gate is closing (it was, or this read
    /// broke a limit) and the inner read has been advanced past it.
    /// </summary>
    private bool TryMeterAuthenticated(ReadResult result)
    {
        if (gate.State == GateState.Closing)
        {
            // The gate decided to close while the read was pending (or woke it for that): nothing more reaches SignalR.
            inner.AdvanceTo(result.Buffer.Start);
            return false;
        }

        if (result.IsCanceled || result.Buffer.IsEmpty)
        {
            return true;
        }

        if (!_meterReady)
        {
            // The protocol is known since the handshake; the meter starts at the first authenticated read.
            _meter = new MessageMeter(lengthPrefixed: gate.Protocol == GateProtocol.MessagePack);
            _meterReady = true;
        }

        var messages = _meter.Measure(result.Buffer, options.MaximumReceiveMessageSize, out var oversized);
        // Stryker disable once Equality: equivalent, taking zero tokens always succeeds and only refills the bucket early, to the same level the next take would find
        var violation = oversized ? CloseReasons.MessageTooLarge
            : messages > 0 && !gate.TryTakeMessages(messages) ? CloseReasons.RateLimited
            : null;
        if (violation is null)
        {
            return true;
        }

        inner.AdvanceTo(result.Buffer.End);
        gate.RefuseAfterAuthentication(violation);
        return false;
    }

    private async ValueTask<ReadResult> ReadGatedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (gate.State)
            {
                case GateState.Authenticated:
                    return await ReadAsync(cancellationToken);
                case GateState.Closing:
                    return await EndAsync();
                case GateState.Authenticating:
                    await gate.AuthenticationSettled.WaitAsync(cancellationToken);
                    continue;
            }

            var result = await inner.ReadAsync(cancellationToken);
            if (gate.State is GateState.Closing or GateState.Authenticated)
            {
                // The state moved while the read was pending (a deadline, a close from outside): decide again.
                inner.AdvanceTo(result.Buffer.Start);
                continue;
            }

            if (result.IsCanceled || result.Buffer.IsEmpty)
            {
                return result;
            }

            var verdict = gate.State == GateState.Handshaking ? InspectHandshake(result.Buffer)
                : gate.Protocol switch
                {
                    GateProtocol.Json => InspectMessages(result.Buffer),
                    GateProtocol.MessagePack => InspectMessagePackMessages(result.Buffer),
                    _ => Verdict.Refuse("a protocol the gate cannot read", CloseReasons.AuthenticationRequired),
                };
            if (verdict.Violation is { } violation)
            {
                inner.AdvanceTo(result.Buffer.End);
                if (gate.State == GateState.Handshaking)
                {
                    gate.AbortHandshake(violation);
                    _ended = true;
                    return new ReadResult(default, isCanceled: true, isCompleted: false);
                }

                gate.RefuseBeforeAuthentication(violation, verdict.CloseReason);
                return await EndAsync();
            }

            return verdict.PassUpTo is { } end
                ? new ReadResult(result.Buffer.Slice(0, end), isCanceled: false, isCompleted: false)
                : result;
        }
    }

    private async ValueTask<ReadResult> EndAsync()
    {
        // A close that a call asked for goes after that call's reply, however the reader got here.
        await gate.ReplyWritten;
        await gate.SendCloseMessageAsync();
        _ended = true;

        // An empty, completed read ends SignalR's loop the ordinary way: OnDisconnectedAsync runs, the socket closes.
        return new ReadResult(default, isCanceled: false, isCompleted: true);
    }

    private Verdict InspectHandshake(ReadOnlySequence<byte> buffer)
    {
        var end = buffer.PositionOf(RecordSeparator);
        var length = end is { } position ? buffer.Slice(0, position).Length : buffer.Length;
        return length > options.PreAuthenticationMaximumMessageSize
            ? Verdict.Refuse("an oversized handshake", CloseReasons.AuthenticationRequired)
            : Verdict.PassAll;
    }

    private Verdict InspectMessages(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> frame, RecordSeparator))
        {
            if (frame.Length > options.PreAuthenticationMaximumMessageSize)
            {
                return Verdict.Refuse("an oversized message", CloseReasons.AuthenticationFailed);
            }

            if (Judge(PreAuthenticationFrames.Classify(frame), reader.Position) is { } verdict)
            {
                return verdict;
            }
        }

        return reader.Remaining > options.PreAuthenticationMaximumMessageSize
            ? Verdict.Refuse("an oversized message", CloseReasons.AuthenticationFailed)
            : Verdict.PassAll;
    }

    private Verdict InspectMessagePackMessages(ReadOnlySequence<byte> buffer)
    {
        var rest = buffer;
        while (!rest.IsEmpty)
        {
            switch (MessagePackFrames.ReadLengthPrefix(rest, out var prefixLength, out var length))
            {
                case OperationStatus.NeedMoreData:
                    // At most four bytes of a prefix: SignalR waits for the rest, and so does the gate.
                    return Verdict.PassAll;
                case OperationStatus.InvalidData:
                    return Verdict.Refuse("a malformed length prefix", CloseReasons.AuthenticationRequired);
            }

            // The prefix announces the size, so an oversized frame is refused before its bytes arrive.
            if (length > options.PreAuthenticationMaximumMessageSize)
            {
                return Verdict.Refuse("an oversized message", CloseReasons.AuthenticationFailed);
            }

            if (rest.Length - prefixLength < length)
            {
                return Verdict.PassAll;
            }

            var frame = rest.Slice(prefixLength, length);
            rest = rest.Slice(frame.End);

            if (Judge(MessagePackFrames.Classify(frame), frame.End) is { } verdict)
            {
                return verdict;
            }
        }

        return Verdict.PassAll;
    }

    /// <summary>
    /// Counts one whole frame, whichever protocol framed it, and decides on its kind: null lets the reader go on to the
    /// next frame; a pass ends at <paramref name="end"/>, the end of this frame.
    /// </summary>
    private Verdict? Judge(PreAuthenticationFrame kind, SequencePosition end)
    {
        // Each whole frame is inspected once: SignalR consumes every whole frame it is given.
        if (++_messagesBeforeAuthentication > options.PreAuthenticationMaximumMessages)
        {
            return Verdict.Refuse("too many messages", CloseReasons.AuthenticationRequired);
        }

        switch (kind)
        {
            case PreAuthenticationFrame.Ping or PreAuthenticationFrame.Close:
                return null;
            case PreAuthenticationFrame.Authenticate when gate.TryBeginAuthentication():
                // SignalR gets frames up to this one; what follows waits until the gate knows who this is.
                return Verdict.PassUntil(end);
            case PreAuthenticationFrame.Authenticate:
                return Verdict.Refuse("a second Authenticate", CloseReasons.AuthenticationRequired);
            case PreAuthenticationFrame.MalformedAuthenticate:
                return Verdict.Refuse("a malformed Authenticate", CloseReasons.AuthenticationFailed);
            default:
                return Verdict.Refuse($"a message of kind {kind}", CloseReasons.AuthenticationRequired);
        }
    }

    private readonly record struct Verdict(SequencePosition? PassUpTo, string? Violation, string CloseReason)
    {
        public static Verdict PassAll => default;

        // Stryker disable once String: equivalent, a pass has no violation, so nothing reads its close reason
        public static Verdict PassUntil(SequencePosition end) => new(end, null, string.Empty);

        public static Verdict Refuse(string violation, string closeReason) => new(null, violation, closeReason);
    }
}
