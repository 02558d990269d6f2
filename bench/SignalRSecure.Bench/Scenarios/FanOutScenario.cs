using System.Diagnostics;
using SignalRSecure.Bench.Load;
using SignalRSecure.Bench.Targets;

namespace SignalRSecure.Bench.Scenarios;

/// <summary>
/// Scenario 3: one sender per channel (the whole hub, or one group) broadcasting in a closed loop, at most
/// <see cref="Window"/> messages ahead of what its receivers have got (<see cref="GroupWindow"/> for each of the
/// groups' senders), so the server is kept busy without queues growing without bound. Counts deliveries and per-recipient latency (from the send time) where they arrive.
/// With <paramref name="senderTarget"/> (another node of a cluster) the broadcast's sender connects there and the
/// receivers to <paramref name="target"/>, so that every delivery crosses the backplane.
/// </summary>
internal sealed class FanOutScenario(BenchTarget target, Dialer dialer, BenchTarget? senderTarget = null) : IDisposable
{
    /// <summary>How far the broadcast's one sender runs ahead of its receivers.</summary>
    public const int Window = 8;

    /// <summary>
    /// How far each of the groups' senders runs ahead. A hundred senders keep the server busy with fewer messages
    /// ahead each; at 8 the groups kept up to 79,200 deliveries queued, mostly in the server's send pipes (a 4 KB
    /// buffer each), and the CPU per delivery of A and G alike came out either about 23 or about 42 us from round to
    /// round with the same code, by how much was queued when the collections came (bench/README.md, fan-out).
    /// </summary>
    public const int GroupWindow = 2;

    private readonly List<HubLink> _links = [];
    private readonly bool _raw = !target.Kind.SpeaksSignalR();
    private Channel[] _channels = [];
    private Recorder _recorder = new(null);
    private long _otherRecords;
    private long _otherInvocations;
    private long _deliveredRecords;
    private long _deliveredBytes;

    public int Connections => _links.Count;

    /// <summary>Grows the connections to one sender and <paramref name="receivers"/> receivers, all in channel 0.</summary>
    public async Task GrowForBroadcastAsync(int receivers)
    {
        await GrowToAsync(receivers + 1);
        for (var i = 0; i < _links.Count; i++)
        {
            _links[i].Channel = 0;
            _links[i].IsSender = i == 0;
            _links[i].Frame = Frames.Broadcast(target.Protocol);
        }

        _channels = [new Channel(_links[0], receivers, Window)];
    }

    /// <summary>Grows the connections to <paramref name="groups"/> x <paramref name="members"/>, each joining its group; the first member sends.</summary>
    public async Task GrowForGroupsAsync(int groups, int members)
    {
        var wanted = groups * members;
        await GrowToAsync(wanted);

        _channels = new Channel[groups];
        for (var i = 0; i < wanted; i++)
        {
            var link = _links[i];
            link.Channel = i / members;
            link.IsSender = i % members == 0;
            link.Frame = Frames.SendToGroup(GroupName(link.Channel), target.Protocol);
            if (link.IsSender)
            {
                _channels[link.Channel] = new Channel(link, members - 1, GroupWindow);
            }
        }

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < wanted)
            {
                await InvokeAsync(_links[i], Frames.JoinGroup(GroupName(_links[i].Channel), target.Protocol));
            }
        }));

        // Each join told the members already there (UserJoined); let that storm drain before measuring.
        long seen;
        do
        {
            seen = Interlocked.Read(ref _otherRecords);
            await Task.Delay(300);
        }
        while (Interlocked.Read(ref _otherRecords) != seen);
    }

    public async Task<FanOut> RunAsync(string shape, TimeSpan warmUp, TimeSpan measure, int round)
    {
        _recorder = new Recorder(target.Stats);
        var stopping = false;
        long stalls = 0;
        var senders = _channels.Select(channel => Task.Run(async () =>
        {
            for (long k = 0; !Volatile.Read(ref stopping); k++)
            {
                if (!await channel.WaitForDeliveriesAsync((k - channel.Window) * channel.Receivers, TimeSpan.FromSeconds(5)))
                {
                    Interlocked.Increment(ref stalls);
                }

                await InvokeAsync(channel.Sender, null);
            }
        })).ToList();

        await Task.Delay(warmUp);
        var runtimeBefore = target.Probe is { } probe ? await probe.CountersAsync() : null;
        var (messagesBefore, recordsBefore, bytesBefore) = ReceiversRead();
        var otherBefore = Interlocked.Read(ref _otherInvocations);
        _recorder.Start();
        await Task.Delay(measure);
        _recorder.Stop();
        var (messagesAfter, recordsAfter, bytesAfter) = ReceiversRead();
        var other = Interlocked.Read(ref _otherInvocations) - otherBefore;
        var runtime = runtimeBefore is not null ? (await target.Probe!.CountersAsync())?.Minus(runtimeBefore) : null;
        Volatile.Write(ref stopping, true);
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));

        var receivers = _channels.Sum(channel => channel.Receivers);
        return new FanOut(target.Kind, round, shape, receivers, _recorder.Count / _recorder.Seconds, _recorder.CpuMicrosecondsPerMessage,
            Percentiles.Of(_recorder.Latency), stalls,
            BytesPerDelivery: (bytesAfter - bytesBefore) / (double)Math.Max(1, recordsAfter - recordsBefore),
            Deliveries: _recorder.Count,
            RecordsPerMessage: (recordsAfter - recordsBefore) / (double)Math.Max(1, messagesAfter - messagesBefore),
            Runtime: runtime,
            OtherRecords: other);
    }

    public void Dispose() => EchoScenario.DisposeAll(_links);

    /// <summary>WebSocket messages the receivers have got so far, and the deliveries in them and their bytes.</summary>
    private (long Messages, long Records, long Bytes) ReceiversRead() =>
        (_links.Where(link => !link.IsSender).Sum(link => link.MessagesReceived), Interlocked.Read(ref _deliveredRecords), Interlocked.Read(ref _deliveredBytes));

    /// <summary>Opens (authenticated where the server gates) connections until there are <paramref name="wanted"/>.</summary>
    private async Task GrowToAsync(int wanted)
    {
        if (_links.Count >= wanted)
        {
            return;
        }

        var added = new List<HubLink>();
        if (_links.Count == 0 && senderTarget is not null)
        {
            // The first link is the broadcast's sender (GrowForBroadcastAsync).
            await senderTarget.PrepareAsync(1, CancellationToken.None);
            added.Add(await senderTarget.OpenAsync(dialer, 0, RawEndpoint.Broadcast));
        }

        var count = wanted - _links.Count - added.Count;
        await target.PrepareAsync(count, CancellationToken.None);
        added.AddRange(await target.OpenManyAsync(dialer, count, _links.Count + added.Count, RawEndpoint.Broadcast));
        foreach (var link in added)
        {
            link.StartPump(OnRecord);
        }

        _links.AddRange(added);
    }

    private static string GroupName(int channel) => $"bench-{channel:D3}";

    /// <summary>Sends <paramref name="frame"/> (or the link's stamped frame) and waits for its completion through the pump.</summary>
    private static async Task InvokeAsync(HubLink link, byte[]? frame)
    {
        var pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        link.Pending = pending;
        await (frame is null ? link.SendStampedAsync(Stopwatch.GetTimestamp()) : link.SendAsync(frame));
        await pending.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private void OnRecord(HubLink link, ReadOnlySpan<byte> record, long now)
    {
        var stamp = Frames.ReadStamp(record);
        var type = _raw ? (stamp >= 0 ? 1 : -1) : Frames.TypeOf(record);
        if (link.IsSender ? (_raw ? stamp >= 0 : type == 3) : type == 3)
        {
            // Raw WebSockets acknowledge a broadcast with the sender's own copy; the hubs with a completion.
            link.Pending?.TrySetResult();
            return;
        }

        if (link.IsSender || type != 1 || stamp < 0)
        {
            Interlocked.Increment(ref _otherRecords);
            // An invocation without a stamp (presence); a sender's own copy of its group's message has one.
            if (type == 1 && stamp < 0)
            {
                Interlocked.Increment(ref _otherInvocations);
            }

            return;
        }

        Interlocked.Increment(ref _deliveredRecords);
        Interlocked.Add(ref _deliveredBytes, record.Length);
        var channels = _channels;
        if (link.Channel < channels.Length)
        {
            channels[link.Channel].Delivered();
        }

        _recorder.RecordClosedLoop(stamp, now, error: false);
    }

    /// <summary>One sender and the deliveries to its receivers, with a wait for "at least this many delivered".</summary>
    private sealed class Channel(HubLink sender, int receivers, int window)
    {
        private long _delivered;
        private long _waitingFor = long.MaxValue;
        private TaskCompletionSource? _waiter;

        public HubLink Sender => sender;

        public int Receivers => receivers;

        /// <summary>How many messages the sender may be ahead of what all its receivers have got.</summary>
        public int Window => window;

        public void Delivered()
        {
            var delivered = Interlocked.Increment(ref _delivered);
            if (delivered >= Volatile.Read(ref _waitingFor))
            {
                Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
            }
        }

        public async Task<bool> WaitForDeliveriesAsync(long count, TimeSpan timeout)
        {
            if (count <= 0 || Volatile.Read(ref _delivered) >= count)
            {
                return true;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _waiter, waiter);
            Volatile.Write(ref _waitingFor, count);
            if (Volatile.Read(ref _delivered) >= count)
            {
                return true;
            }

            try
            {
                await waiter.Task.WaitAsync(timeout);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }
}
