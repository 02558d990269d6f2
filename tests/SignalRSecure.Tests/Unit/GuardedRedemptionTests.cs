using SignalRSecure.AspNetCore.Tickets;

namespace SignalRSecure.Tests.Unit;

/// <summary>
/// What a redeemer hands the gate for an address that is locked out (both the in-memory and the Redis redeemer return
/// <see cref="GuardedRedemption.Locked"/>): the gate reads <see cref="GuardedRedemption.LockedOut"/> as "this attempt
/// locked the address out" and logs it as a warning (AddressLockedOut, with the lockout's length), so a refusal that
/// counted nothing must not claim it.
/// </summary>
public sealed class GuardedRedemptionTests
{
    [Fact]
    public void Locked_AddressLockedOut_IsRefusedUnreadWithoutClaimingANewLockout()
    {
        var locked = GuardedRedemption.Locked;

        Assert.True(locked.AddressLockedOut);
        Assert.False(locked.LockedOut);
        Assert.Null(locked.Ticket);
        Assert.Null(locked.Rejection);
        Assert.Null(locked.LockoutFailure);
    }
}
