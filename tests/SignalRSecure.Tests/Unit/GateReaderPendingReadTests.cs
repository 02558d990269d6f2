using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.SignalR.Protocol;
using SignalRSecure.AspNetCore.Gate;
using SignalRSecure.Contracts;
using SignalRSecure.Tests.Infrastructure;
using static SignalRSecure.Tests.Unit.GateReaderHarness;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// An authenticated connection's pending read, which the reader serves as an <see cref="IValueTaskSource{TResult}"/> of
/// its own: the ValueTask contract SignalR's awaits rely on (status, one result, stale tokens refused, the execution and
/// scheduling contexts the awaiter asks for), and how a read that waits ends when the gate closes meanwhile.
/// </summary>
public sealed class GateReaderPendingReadTests : IDisposable
{
    private static readonly AsyncLocal<string?> Registrant = new();

    private readonly GateTestbed _testbed = new();

    [Fact]
    public async Task PendingRead_WhoseResultWasTaken_RefusesItsStatusItsResultAndAContinuation()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var pending = reader.ReadAsync();
        await SendAsync(connection, Ping);
        var result = await pending.AsTask().WaitAsync(WaitLimit);
        reader.AdvanceTo(result.Buffer.End);

        // A used ValueTask is refused, never answered from whatever the reader holds now.
        var status = Assert.Throws<InvalidOperationException>(() => pending.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => pending.Result);
        Assert.Throws<InvalidOperationException>(() => pending.GetAwaiter().OnCompleted(() => { }));
        Assert.Equal("The read has already completed.", status.Message);
    }

    [Fact]
    public async Task PendingRead_StaleValueTaskUsedWhileTheNextReadWaits_LeavesTheNextReadIntact()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var stale = reader.ReadAsync();
        await SendAsync(connection, Ping);
        var first = await stale.AsTask().WaitAsync(WaitLimit);
        reader.AdvanceTo(first.Buffer.End);
        var next = reader.ReadAsync();

        // The stale ValueTask shares the reader with the next read: it must neither take that read's result nor
        // replace its continuation.
        Assert.Throws<InvalidOperationException>(() => stale.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => stale.GetAwaiter().UnsafeOnCompleted(() => { }));
        Assert.Throws<InvalidOperationException>(() => stale.Result);
        var nextPendingAfterwards = !next.IsCompleted;
        await SendAsync(connection, Ping);
        var second = await next.AsTask().WaitAsync(WaitLimit);

        Assert.True(nextPendingAfterwards);
        Assert.Equal(Ping, second.Buffer.ToArray());
    }

    [Fact]
    public async Task PendingRead_AskedWithACanceledToken_ReportsCanceledAndTheReaderGoesOn()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);

        var canceled = reader.ReadAsync(new CancellationToken(canceled: true));
        var status = (canceled.IsCanceled, canceled.IsFaulted, canceled.IsCompletedSuccessfully);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.AsTask().WaitAsync(WaitLimit));
        var next = reader.ReadAsync();
        await SendAsync(connection, Ping);
        var result = await next.AsTask().WaitAsync(WaitLimit);

        Assert.Equal((true, false, false), status);
        Assert.Equal(Ping, result.Buffer.ToArray());
    }

    [Fact]
    public async Task PendingRead_CancelPendingRead_SucceedsWithACanceledReadAndTheConnectionGoesOn()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);

        var pending = reader.ReadAsync();
        reader.CancelPendingRead();
        var succeeded = pending.IsCompletedSuccessfully;
        var canceled = await pending.AsTask().WaitAsync(WaitLimit);
        reader.AdvanceTo(canceled.Buffer.Start, canceled.Buffer.End);
        await SendAsync(connection, Ping);
        var next = await ReadAsync(reader);

        Assert.True(succeeded);
        Assert.True(canceled.IsCanceled);
        Assert.False(canceled.IsCompleted);
        Assert.Equal(GateState.Authenticated, connection.Gate.State);
        Assert.Null(connection.Gate.CloseReason);
        Assert.Equal(Ping, next.Buffer.ToArray());
    }

    [Fact]
    public async Task Authenticated_CanceledReadWithAnOversizedMessageBehindIt_IsHandedBackUnmetered_TheNextReadCloses()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        await SendAsync(connection, [.. PaddedPing(_testbed.Options.MaximumReceiveMessageSize), Separator]);

        // SignalR ends its loop on a canceled read without parsing it; the bytes are measured at the next read.
        reader.CancelPendingRead();
        var canceled = await ReadAsync(reader);
        var reasonAfterTheCancel = connection.Gate.CloseReason;
        reader.AdvanceTo(canceled.Buffer.Start);
        var next = await ReadAsync(reader);

        Assert.True(canceled.IsCanceled);
        Assert.False(canceled.IsCompleted);
        Assert.Null(reasonAfterTheCancel);
        AssertEnd(reader, next);
        Assert.Equal(CloseReasons.MessageTooLarge, connection.Gate.CloseReason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PendingRead_Continuation_RunsInTheRegistrantsExecutionContextOnlyWhenAsked(bool flow)
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var pending = reader.ReadAsync();
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        // OnCompleted flows the execution context (as the awaiters of async methods that flow it do); UnsafeOnCompleted does not.
        Registrant.Value = "registrant";
        try
        {
            OnCompleted(pending, () => seen.TrySetResult(Registrant.Value), flowExecutionContext: flow, useSchedulingContext: false);
        }
        finally
        {
            Registrant.Value = null;
        }

        await SendAsync(connection, Ping);
        var value = await seen.Task.WaitAsync(WaitLimit);
        var result = ResultOf(pending);

        Assert.Equal(flow ? "registrant" : null, value);
        Assert.Equal(Ping, result.Buffer.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PendingRead_Continuation_IsPostedToTheRegistrantsSynchronizationContextOnlyWhenAsked(bool useContext)
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var pending = reader.ReadAsync();
        var context = new CountingSynchronizationContext();
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // An await without ConfigureAwait(false) resumes on the awaiter's context; with it, wherever the read completes.
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            OnCompleted(pending, () => ran.TrySetResult(), flowExecutionContext: false, useSchedulingContext: useContext);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        await SendAsync(connection, Ping);
        await ran.Task.WaitAsync(WaitLimit);
        var result = ResultOf(pending);

        Assert.Equal(useContext ? 1 : 0, context.Posts);
        Assert.Equal(Ping, result.Buffer.ToArray());
    }

    [Fact]
    public async Task PendingReads_OneAfterAnother_RunEachContinuationOnce()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var calls = new int[2];
        for (var i = 0; i < calls.Length; i++)
        {
            var index = i;
            var pending = reader.ReadAsync();
            var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            OnCompleted(
                pending,
                () =>
                {
                    Interlocked.Increment(ref calls[index]);
                    ran.TrySetResult();
                },
                flowExecutionContext: false,
                useSchedulingContext: false);

            await SendAsync(connection, Ping);
            await ran.Task.WaitAsync(WaitLimit);
            reader.AdvanceTo(ResultOf(pending).Buffer.End);
        }

        Assert.Equal(new[] { 1, 1 }, calls);
    }

    [Fact]
    public async Task PendingReads_AfterTheFirst_RegisterTheirContinuationWithoutAllocating()
    {
        // An idle connection waits in a pending read for its whole life; each new wait must cost the reader nothing.
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var allocated = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            var pending = reader.ReadAsync();
            var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Action continuation = () => ran.TrySetResult();

            var before = GC.GetAllocatedBytesForCurrentThread();
            OnCompleted(pending, continuation, flowExecutionContext: false, useSchedulingContext: false);
            allocated.Add(GC.GetAllocatedBytesForCurrentThread() - before);

            await SendAsync(connection, Ping);
            await ran.Task.WaitAsync(WaitLimit);
            reader.AdvanceTo(ResultOf(pending).Buffer.End);
        }

        // The first registration creates the reader's one delegate; the least of the others shows what one costs.
        Assert.Equal(0L, allocated.Skip(1).Min());
    }

    [Fact]
    public async Task PendingRead_ClosedFromOutsideWhileWaiting_EndsAfterTheCloseMessage()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var pending = reader.ReadAsync().AsTask();

        connection.Gate.Close(CloseReasons.Revoked);
        var end = await pending.WaitAsync(WaitLimit);

        AssertEnd(reader, end);
        AssertTransportBetweenReads(connection);
        Assert.Contains("\"error\":\"revoked\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PendingRead_ClosingAfterAReplyWhenAFrameWakesIt_HandsAnEmptyReadThenEndsAfterTheReply()
    {
        // Arrange: a call asked to close after its reply; the client's next frame arrives before that reply is out.
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var pending = reader.ReadAsync().AsTask();
        connection.Gate.CloseAfterReply(CloseReasons.Unavailable);

        // Act
        await SendAsync(connection, Ping);
        var empty = await pending.WaitAsync(WaitLimit);
        var writtenBeforeTheReply = connection.HasWritten();
        reader.AdvanceTo(empty.Buffer.Start, empty.Buffer.End);
        AssertTransportBetweenReads(connection);
        var end = reader.ReadAsync().AsTask();
        var endedBeforeTheReply = end.IsCompleted;
        connection.Gate.InvocationEnded();
        var ended = await end.WaitAsync(WaitLimit);

        // Assert: the frame never reaches SignalR, and the close message follows the reply.
        Assert.False(empty.IsCompleted);
        Assert.False(empty.IsCanceled);
        Assert.True(empty.Buffer.IsEmpty);
        Assert.False(writtenBeforeTheReply);
        Assert.False(endedBeforeTheReply);
        AssertEnd(reader, ended);
        Assert.Contains("\"error\":\"temporarily unavailable\"", await connection.ReadWrittenAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PendingRead_OversizedMessageArrives_EndsAndLeavesTheTransportBetweenReads()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var pending = reader.ReadAsync().AsTask();

        await SendAsync(connection, [.. PaddedPing(_testbed.Options.MaximumReceiveMessageSize), Separator]);
        var end = await pending.WaitAsync(WaitLimit);

        AssertEnd(reader, end);
        AssertTransportBetweenReads(connection);
        Assert.Equal(CloseReasons.MessageTooLarge, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task MessagePack_Authenticated_MessagesOverTheBurst_CloseWithRateLimited()
    {
        // The meter reads the framing of the protocol the handshake chose: MessagePack frames carry no separator.
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed, new MessagePackHubProtocol());
        var burst = _testbed.Options.MessageBurst;
        var ping = MessagePackFrame.Frame(MessagePackFrame.Message(6));

        await SendAsync(connection, [.. Enumerable.Repeat(ping, burst).SelectMany(b => b)]);
        var first = await ReadAsync(reader);
        var firstLength = first.Buffer.Length;
        reader.AdvanceTo(first.Buffer.End);
        await SendAsync(connection, ping);
        var second = await ReadAsync(reader);

        Assert.Equal(burst * ping.Length, firstLength);
        AssertEnd(reader, second);
        Assert.Equal(CloseReasons.RateLimited, connection.Gate.CloseReason);
    }

    [Fact]
    public async Task Authenticated_MessagesReadAgainWithoutBeingConsumed_AreCountedOnce()
    {
        var (connection, reader) = await OpenAuthenticatedAsync(_testbed);
        var burst = _testbed.Options.MessageBurst;

        // The whole burst, examined but not consumed, then read again with one more byte behind it.
        await SendAsync(connection, [.. Enumerable.Repeat(Ping, burst).SelectMany(b => b)]);
        var first = await ReadAsync(reader);
        reader.AdvanceTo(first.Buffer.Start, first.Buffer.End);
        await SendAsync(connection, "{"u8.ToArray());
        var second = await ReadAsync(reader);

        Assert.False(second.IsCompleted);
        Assert.Equal((burst * Ping.Length) + 1, second.Buffer.Length);
        Assert.Null(connection.Gate.CloseReason);
    }

    public void Dispose() => _testbed.Dispose();

    /// <summary>
    /// Registers <paramref name="continuation"/> on <paramref name="read"/> the way an awaiter does: with or without the
    /// execution context (OnCompleted or UnsafeOnCompleted), with or without the scheduling context (ConfigureAwait).
    /// </summary>
    private static void OnCompleted(ValueTask<ReadResult> read, Action continuation, bool flowExecutionContext, bool useSchedulingContext)
    {
        var awaiter = read.ConfigureAwait(useSchedulingContext).GetAwaiter();
        if (flowExecutionContext)
        {
            awaiter.OnCompleted(continuation);
        }
        else
        {
            awaiter.UnsafeOnCompleted(continuation);
        }
    }

    /// <summary>The result of a read whose continuation has run, taken the way its awaiter takes it.</summary>
    private static ReadResult ResultOf(ValueTask<ReadResult> read) => read.GetAwaiter().GetResult();

    /// <summary>A synchronization context that counts what is posted to it and runs it on the thread pool.</summary>
    private sealed class CountingSynchronizationContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }
    }
}
