using SignalRSecure.AspNetCore.Gate;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// The table that shares one identity between the connections of a user: sharing must never hand a connection another
/// user's name or another set of groups, since the identity is what every authorization check reads.
/// </summary>
public sealed class SharedIdentitiesTests
{
    [Fact]
    public void Share_SameUserAndGroups_ReturnsTheSameIdentity()
    {
        var identities = new SharedIdentities();

        var first = identities.Share("alice", ["general", "ops"]);
        var second = identities.Share("alice", new List<string> { "general", "ops" });

        Assert.Same(first, second);
        Assert.Equal("alice", first.Name);
        Assert.Equal(["general", "ops"], first.Groups);
    }

    [Fact]
    public void Share_SameUserWithOtherGroups_ReturnsAnIdentityWithTheNewGroups()
    {
        var identities = new SharedIdentities();
        var before = identities.Share("alice", ["general", "ops"]);

        var fewer = identities.Share("alice", ["general"]);
        var reordered = identities.Share("alice", ["ops", "general"]);
        var otherCase = identities.Share("alice", ["General", "ops"]);

        Assert.Equal(["general"], fewer.Groups);
        Assert.Equal(["ops", "general"], reordered.Groups);
        Assert.Equal(["General", "ops"], otherCase.Groups);
        Assert.Equal(["general", "ops"], before.Groups);
    }

    [Fact]
    public void Share_AnotherUserInTheSameSlot_NeverGetsTheFirstUsersIdentity()
    {
        // Arrange: a name that lands in alice's slot (string hashes differ per process, so it is searched for).
        var identities = new SharedIdentities();
        var collider = NameInTheSameSlotAs("alice");
        var alice = identities.Share("alice", ["general"]);

        // Act
        var other = identities.Share(collider, ["general"]);
        var aliceAgain = identities.Share("alice", ["general"]);
        var aliceOnceMore = identities.Share("alice", ["general"]);

        // Assert: the slot went to the other user, alice gets an equal identity of her own, then shares it again.
        Assert.Equal(collider, other.Name);
        Assert.NotSame(alice, other);
        Assert.Equal("alice", aliceAgain.Name);
        Assert.NotSame(alice, aliceAgain);
        Assert.Same(aliceAgain, aliceOnceMore);
    }

    [Fact]
    public void Share_UserNameDifferingOnlyInCase_IsAnotherUser()
    {
        var identities = new SharedIdentities();
        identities.Share("alice", ["general"]);

        var upper = identities.Share("ALICE", ["general"]);

        Assert.Equal("ALICE", upper.Name);
    }

    [Fact]
    public void Share_Null_Throws()
    {
        var identities = new SharedIdentities();

        Assert.Throws<ArgumentNullException>(() => identities.Share(null!, []));
        Assert.Throws<ArgumentNullException>(() => identities.Share("alice", null!));
    }

    private static string NameInTheSameSlotAs(string name)
    {
        static uint Slot(string value) => (uint)StringComparer.Ordinal.GetHashCode(value) % 1024;
        var target = Slot(name);
        for (var i = 0; ; i++)
        {
            var candidate = $"user{i}";
            if (Slot(candidate) == target)
            {
                return candidate;
            }
        }
    }
}
