using Microsoft.AspNetCore.Authorization;
using SignalRSecure.Bench.Servers.Hubs;

namespace SignalRSecure.Bench.Servers.Stock;

/// <summary>
/// Variant B: the stock way to authenticate SignalR. The bearer token travels in the <c>access_token</c> query
/// string of the upgrade, ASP.NET Core authentication validates it, and <c>[Authorize]</c> guards every method.
/// </summary>
/// <param name="time">The clock of <c>sentAt</c>.</param>
[Authorize]
public sealed class AuthorizedChatHub(TimeProvider time) : BenchChatHub(time);
