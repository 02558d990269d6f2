using System.Buffers;
using System.IO.Pipelines;
using SignalRSecure.Contracts;

namespace SignalRSecure.Server.Gate;

/// <summary>
/// The gate at the byte level: wraps the connection's input so that, until the connection authenticates, SignalR
/// reads only the handshake, pings, a close and a single well-formed <c>Authenticate</c> invocation, each within
/// <see cref="SecureHubOptions.PreAuthenticationMaximumMessageSize"/>. Anything else never reaches SignalR: the
/// connection is closed instead, with <c>authentication failed</c> for an oversized message or a malformed
/// Authenticate (both count as failed attempts) and <c>authentication required</c> for any other message.
/// After authentication every read passes straight through.
/// </summary>
/// <remarks>
/// This sits below SignalR because hub filters never see unknown method names, stream items or completions, and
/// because nothing after the Authenticate frame may be dispatched before the gate knows who the connection is.
/// </remarks>
internal sealed class PreAuthenticationReader(PipeReader inner, ConnectionGate gate, int maximumFrameSize) : PipeReader
{
    private const byte RecordSeparator = 0x1e;

    // Set once the reader has handed SignalR its final, synthetic result; later AdvanceTo calls refer to it.
    private bool _ended;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        gate.State == GateState.Authenticated ? inner.ReadAsync(cancellationToken) : ReadGatedAsync(cancellationToken);

    public override bool TryRead(out ReadResult result)
    {
        if (gate.State == GateState.Authenticated)
        {
            return inner.TryRead(out result);
        }

        // Before authentication every read goes through ReadAsync, where the frames are inspected.
        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_ended)
        {
            inner.AdvanceTo(consumed, examined);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    private async ValueTask<ReadResult> ReadGatedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (gate.State)
            {
                case GateState.Authenticated:
                    return await inner.ReadAsync(cancellationToken);
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

            var verdict = gate.State == GateState.Handshaking ? InspectHandshake(result.Buffer) : InspectMessages(result.Buffer);
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
        await gate.SendCloseMessageAsync();
        _ended = true;

        // An empty, completed read ends SignalR's loop the ordinary way: OnDisconnectedAsync runs, the socket closes.
        return new ReadResult(default, isCanceled: false, isCompleted: true);
    }

    private Verdict InspectHandshake(ReadOnlySequence<byte> buffer)
    {
        var end = buffer.PositionOf(RecordSeparator);
        var length = end is { } position ? buffer.Slice(0, position).Length : buffer.Length;
        return length > maximumFrameSize ? Verdict.Refuse("an oversized handshake", CloseReasons.AuthenticationRequired) : Verdict.PassAll;
    }

    private Verdict InspectMessages(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> frame, RecordSeparator))
        {
            if (frame.Length > maximumFrameSize)
            {
                return Verdict.Refuse("an oversized message", CloseReasons.AuthenticationFailed);
            }

            switch (PreAuthenticationFrames.Classify(frame))
            {
                case PreAuthenticationFrame.Ping or PreAuthenticationFrame.Close:
                    continue;
                case PreAuthenticationFrame.Authenticate when gate.TryBeginAuthentication():
                    // SignalR gets frames up to this one; what follows waits until the gate knows who this is.
                    return Verdict.PassUntil(reader.Position);
                case PreAuthenticationFrame.Authenticate:
                    return Verdict.Refuse("a second Authenticate", CloseReasons.AuthenticationRequired);
                case PreAuthenticationFrame.MalformedAuthenticate:
                    return Verdict.Refuse("a malformed Authenticate", CloseReasons.AuthenticationFailed);
                case var other:
                    return Verdict.Refuse($"a message of kind {other}", CloseReasons.AuthenticationRequired);
            }
        }

        return reader.Remaining > maximumFrameSize
            ? Verdict.Refuse("an oversized message", CloseReasons.AuthenticationFailed)
            : Verdict.PassAll;
    }

    private readonly record struct Verdict(SequencePosition? PassUpTo, string? Violation, string CloseReason)
    {
        public static Verdict PassAll => default;

        public static Verdict PassUntil(SequencePosition end) => new(end, null, string.Empty);

        public static Verdict Refuse(string violation, string closeReason) => new(null, violation, closeReason);
    }
}
