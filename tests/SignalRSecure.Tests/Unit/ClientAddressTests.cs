using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SignalRSecure.AspNetCore.Protection;

namespace SignalRSecure.Tests.Unit;

/// <summary>The key the per-IP limits count by, and the form the ticket binding compares addresses in.</summary>
public sealed class ClientAddressTests
{
    [Fact]
    public void RemoteIpOf_ConnectionWithAnAddress_IsThatAddress()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpConnectionFeature>(new HttpConnectionFeature { RemoteIpAddress = IPAddress.Parse("203.0.113.7") });

        Assert.Equal(IPAddress.Parse("203.0.113.7"), ClientAddress.RemoteIpOf(context));
    }

    [Fact]
    public void RemoteIpOf_NoConnectionFeature_IsNull()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpConnectionFeature>(null);

        Assert.Null(ClientAddress.RemoteIpOf(context));
    }

    [Fact]
    public void PartitionKey_IPv4_IsTheAddressItself()
    {
        Assert.Equal(IPAddress.Parse("203.0.113.7"), ClientAddress.PartitionKey(IPAddress.Parse("203.0.113.7")));
        Assert.NotEqual(ClientAddress.PartitionKey(IPAddress.Parse("203.0.113.7")), ClientAddress.PartitionKey(IPAddress.Parse("203.0.113.8")));
    }

    [Fact]
    public void PartitionKey_IPv4MappedIPv6_CountsAsTheIPv4Address()
    {
        var key = ClientAddress.PartitionKey(IPAddress.Parse("::ffff:203.0.113.7"));

        Assert.Equal(IPAddress.Parse("203.0.113.7"), key);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, key.AddressFamily);
    }

    [Fact]
    public void PartitionKey_IPv6_CountsByItsSlash64()
    {
        var key = ClientAddress.PartitionKey(IPAddress.Parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));

        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), key);
        Assert.Equal(key, ClientAddress.PartitionKey(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.NotEqual(key, ClientAddress.PartitionKey(IPAddress.Parse("2001:db8:1:3::1")));
    }

    [Fact]
    public void PartitionKey_NoAddress_IsNone()
    {
        Assert.Equal(IPAddress.None, ClientAddress.PartitionKey(null));
    }

    [Fact]
    public void Normalize_Addresses_AreTheirTextWithMappedIPv6AsIPv4()
    {
        Assert.Null(ClientAddress.Normalize(null));
        Assert.Equal("203.0.113.7", ClientAddress.Normalize(IPAddress.Parse("::ffff:203.0.113.7")));
        Assert.Equal("203.0.113.7", ClientAddress.Normalize(IPAddress.Parse("203.0.113.7")));
        Assert.Equal("2001:db8::1", ClientAddress.Normalize(IPAddress.Parse("2001:db8::1")));
    }
}
