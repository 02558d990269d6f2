using System.IO.Pipelines;

namespace SignalRSecure.AspNetCore.Gate;

/// <summary>
/// The transport SignalR sees for a gated connection: the <see cref="GateReader"/> in front of the real
/// input, and the real output until the gate has sent its close message.
/// </summary>
/// <remarks>
/// SignalR ends every connection with a close message of its own (<c>{"type":7,"allowReconnect":true}</c> after the
/// gate's, or its generic error text). After the gate's close the output is swapped for one that discards, so the
/// client receives exactly one close message: the gate's, with its reason. SignalR reads the output from the
/// connection's transport on every write, so the swap costs nothing per message.
/// </remarks>
internal sealed class GatedTransport(PipeReader input, IDuplexPipe original) : IDuplexPipe
{
    /// <summary>The transport this one stands in front of, put back when the connection ends.</summary>
    public IDuplexPipe Original { get; } = original;

    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; private set; } = original.Output;

    /// <summary>Discards everything written from now on.</summary>
    public void DiscardOutput() => Output = DiscardingPipeWriter.Instance;
}
