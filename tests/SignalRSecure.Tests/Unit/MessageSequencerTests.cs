using SignalRSecure.Chat.Contracts;
using SignalRSecure.Client;

namespace SignalRSecure.Tests.Unit;

/// <summary>The .NET client's duplicate filter: each message once, and nothing lost when two nodes interleave.</summary>
public sealed class MessageSequencerTests
{
    [Fact]
    public void OnLive_SameIdTwice_DeliversItOnce()
    {
        var sequencer = new MessageSequencer();

        var first = sequencer.OnLive(Message("general", "100-0"));
        var again = sequencer.OnLive(Message("general", "100-0"));

        Assert.Single(first);
        Assert.Empty(again);
    }

    [Fact]
    public void OnLive_OlderIdFromAnotherNodeNotDeliveredYet_IsDelivered_AndRecoveryStartsAtTheNewest()
    {
        // Two nodes sent to one group in the same millisecond; the backplane brought the newer one first.
        var sequencer = new MessageSequencer();

        var newer = sequencer.OnLive(Message("general", "100-1"));
        var older = sequencer.OnLive(Message("general", "100-0"));

        Assert.Single(newer);
        Assert.Single(older);
        Assert.Equal([("general", "100-1")], sequencer.Recoverable().Select(r => (r.Group, r.LastId)));
    }

    [Fact]
    public void EndRecovery_RecoveredThenHeld_DropsWhatWasDeliveredAlready()
    {
        var sequencer = new MessageSequencer();
        sequencer.OnLive(Message("general", "100-0"));
        sequencer.HoldAll();
        Assert.Empty(sequencer.OnLive(Message("general", "102-0")));

        var delivered = sequencer.EndRecovery("general", [Message("general", "100-0"), Message("general", "101-0"), Message("general", "102-0")]);

        Assert.Equal(["101-0", "102-0"], delivered.Select(m => m.Id));
    }

    private static ChatMessage Message(string group, string id) => new("bob", "hello", group, DateTimeOffset.UnixEpoch, id);
}
