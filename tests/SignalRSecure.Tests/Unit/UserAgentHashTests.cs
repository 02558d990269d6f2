using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.Tests.Unit;

/// <summary>The form a ticket binds the <c>User-Agent</c> in: stable, distinct per agent, never the header itself.</summary>
public sealed class UserAgentHashTests
{
    private const string Browser = "Mozilla/5.0 (X11; Linux x86_64) UserAgentHashTests/1.0";

    [Fact]
    public void Of_AnAgent_IsTheBase64UrlSha256OfItsUtf8Bytes()
    {
        var expected = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(Browser + " é")));

        var hash = UserAgentHash.Of(Browser + " é");

        Assert.Equal(expected, hash);
        Assert.Equal(43, hash.Length);
        Assert.DoesNotContain("UserAgentHashTests", hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_NoHeader_HashesLikeAnEmptyOne()
    {
        Assert.Equal(Base64Url.EncodeToString(SHA256.HashData([])), UserAgentHash.Of(null));
        Assert.Equal(UserAgentHash.Of(string.Empty), UserAgentHash.Of(null));
    }

    [Fact]
    public void Of_AgentsThatDifferInOneCharacter_HashDifferently()
    {
        Assert.NotEqual(UserAgentHash.Of(Browser), UserAgentHash.Of(Browser + " "));
        Assert.NotEqual(UserAgentHash.Of(Browser), UserAgentHash.Of(Browser.ToUpperInvariant()));
        Assert.Equal(UserAgentHash.Of(Browser), UserAgentHash.Of(new string(Browser.AsSpan())));
    }

    [Fact]
    public void Shared_AShortAgent_IsItsHashAsOneStringForEveryConnection()
    {
        var agent = Browser + Guid.NewGuid().ToString("N");

        var first = UserAgentHash.Shared(agent);
        var second = UserAgentHash.Shared(new string(agent.AsSpan()));

        Assert.Equal(UserAgentHash.Of(agent), first);
        Assert.Same(first, second);
    }

    [Fact]
    public void Shared_AnAgentOfTheLongestSharedLength_IsShared()
    {
        var agent = Agent(512);

        var first = UserAgentHash.Shared(agent);
        var second = UserAgentHash.Shared(agent);

        Assert.Equal(UserAgentHash.Of(agent), first);
        Assert.Same(first, second);
    }

    [Fact]
    public void Shared_ALongerAgent_IsHashedEachTimeAndNotKept()
    {
        var agent = Agent(513);

        var first = UserAgentHash.Shared(agent);
        var second = UserAgentHash.Shared(agent);

        Assert.Equal(UserAgentHash.Of(agent), first);
        Assert.Equal(first, second);
        Assert.NotSame(first, second);
    }

    [Fact]
    public void Shared_AgentsInTheSameSlot_EachGetTheirOwnHash()
    {
        // A name that lands in the same slot of the table (string hashes differ per process, so it is searched for).
        var agent = Browser + Guid.NewGuid().ToString("N");
        var target = Slot(agent);
        var collider = Enumerable.Range(0, int.MaxValue).Select(i => $"{agent}-{i}").First(candidate => Slot(candidate) == target);

        var first = UserAgentHash.Shared(agent);
        var other = UserAgentHash.Shared(collider);
        var firstAgain = UserAgentHash.Shared(agent);

        Assert.Equal(UserAgentHash.Of(collider), other);
        Assert.Equal(UserAgentHash.Of(agent), firstAgain);
        Assert.NotSame(first, firstAgain);
    }

    [Fact]
    public void Shared_NoHeader_IsTheHashOfNone()
    {
        Assert.Equal(UserAgentHash.Of(null), UserAgentHash.Shared(null));
    }

    private static string Agent(int length)
    {
        var prefix = Guid.NewGuid().ToString("N");
        return prefix + new string('a', length - prefix.Length);
    }

    private static uint Slot(string value) => (uint)StringComparer.Ordinal.GetHashCode(value) % 256;
}
