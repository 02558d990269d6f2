using SignalRSecure.AspNetCore.Protection;
using SignalRSecure.Tests.Infrastructure;

namespace SignalRSecure.Tests.Unit;

/// <summary>The token bucket every rate limit of the gate is made of, at its exact edges.</summary>
public sealed class TokenBucketTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void TryTake_Count_TakesAllOrNothing()
    {
        var bucket = new TokenBucket(burst: 5, _time.GetTimestamp());

        var tooMany = bucket.TryTake(_time, perSecond: 1, burst: 5, count: 6);
        var exactlyAll = bucket.TryTake(_time, perSecond: 1, burst: 5, count: 5);
        var oneMore = bucket.TryTake(_time, perSecond: 1, burst: 5);

        Assert.False(tooMany);
        Assert.True(exactlyAll);
        Assert.False(oneMore);
    }

    [Fact]
    public void TryTake_RefillsAtTheRateUpToTheBurst()
    {
        var bucket = new TokenBucket(burst: 2, _time.GetTimestamp());
        Assert.True(bucket.TryTake(_time, perSecond: 4, burst: 2, count: 2));

        var beforeAQuarter = bucket.TimeUntil(1, _time, perSecond: 4);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        var atAQuarter = bucket.TryTake(_time, perSecond: 4, burst: 2);
        var rightAfter = bucket.TryTake(_time, perSecond: 4, burst: 2);
        _time.Advance(TimeSpan.FromMinutes(1));
        var afterAMinute = bucket.TryTake(_time, perSecond: 4, burst: 2, count: 3);
        var theBurst = bucket.TryTake(_time, perSecond: 4, burst: 2, count: 2);

        Assert.Equal(TimeSpan.FromMilliseconds(250), beforeAQuarter);
        Assert.True(atAQuarter);
        Assert.False(rightAfter);
        Assert.False(afterAMinute);
        Assert.True(theBurst);
    }

    [Fact]
    public void Return_GivesOneTokenBackButNeverAboveTheBurst()
    {
        var bucket = new TokenBucket(burst: 2, _time.GetTimestamp());
        Assert.True(bucket.TryTake(_time, perSecond: 1, burst: 2));

        bucket.Return(burst: 2);
        bucket.Return(burst: 2);
        var taken = Enumerable.Range(0, 3).Count(_ => bucket.TryTake(_time, perSecond: 1, burst: 2));

        Assert.Equal(2, taken);
    }

    [Fact]
    public void Return_AfterTheBucketRanDry_MakesTheNextTakeSucceed()
    {
        var bucket = new TokenBucket(burst: 1, _time.GetTimestamp());
        Assert.True(bucket.TryTake(_time, perSecond: 1, burst: 1));
        Assert.False(bucket.TryTake(_time, perSecond: 1, burst: 1));

        bucket.Return(burst: 1);

        Assert.True(bucket.TryTake(_time, perSecond: 1, burst: 1));
        Assert.False(bucket.TryTake(_time, perSecond: 1, burst: 1));
    }

    [Fact]
    public void Return_OnAnEmptyBucket_GivesBackOneTokenNotTheBurst()
    {
        var bucket = new TokenBucket(burst: 3, _time.GetTimestamp());
        Assert.True(bucket.TryTake(_time, perSecond: 1, burst: 3, count: 3));

        bucket.Return(burst: 3);
        var taken = Enumerable.Range(0, 3).Count(_ => bucket.TryTake(_time, perSecond: 1, burst: 3));

        Assert.Equal(1, taken);
    }

    [Fact]
    public void TimeUntil_MoreThanAskedForAlreadyThere_IsZero()
    {
        // A bucket that has refilled past what is asked for: no wait, never a negative one.
        var bucket = new TokenBucket(burst: 4, _time.GetTimestamp());
        var full = bucket.TimeUntil(1, _time, perSecond: 2);
        Assert.True(bucket.TryTake(_time, perSecond: 2, burst: 4, count: 4));
        _time.Advance(TimeSpan.FromMinutes(1));

        var forTheBurstLongAfter = bucket.TimeUntil(4, _time, perSecond: 2);

        Assert.Equal(TimeSpan.Zero, full);
        Assert.Equal(TimeSpan.Zero, forTheBurstLongAfter);
    }

    [Fact]
    public void TimeUntil_HowLongTheRefillTakes_ZeroWhenThereAlready()
    {
        var bucket = new TokenBucket(burst: 4, _time.GetTimestamp());
        Assert.True(bucket.TryTake(_time, perSecond: 2, burst: 4, count: 4));

        var forOne = bucket.TimeUntil(1, _time, perSecond: 2);
        var forAll = bucket.TimeUntil(4, _time, perSecond: 2);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var forOneLater = bucket.TimeUntil(1, _time, perSecond: 2);
        var forAllLater = bucket.TimeUntil(4, _time, perSecond: 2);
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        var forAllAtTheEnd = bucket.TimeUntil(4, _time, perSecond: 2);

        Assert.Equal(TimeSpan.FromMilliseconds(500), forOne);
        Assert.Equal(TimeSpan.FromSeconds(2), forAll);
        Assert.Equal(TimeSpan.Zero, forOneLater);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), forAllLater);
        Assert.Equal(TimeSpan.Zero, forAllAtTheEnd);
    }
}
