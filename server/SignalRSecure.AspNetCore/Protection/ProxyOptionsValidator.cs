using System.Net;
using Microsoft.Extensions.Options;
using SignalRSecure.AspNetCore.Hosting;

namespace SignalRSecure.AspNetCore.Protection;

/// <summary>Fails start-up on a proxy address or network that does not parse, naming the configuration key.</summary>
internal sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var errors = new OptionsErrors(ProxyOptions.SectionName);
        for (var i = 0; i < options.KnownProxies.Count; i++)
        {
            errors.Require(IPAddress.TryParse(options.KnownProxies[i], out _), $"{nameof(options.KnownProxies)}:{i}", "must be an IP address");
        }

        for (var i = 0; i < options.KnownNetworks.Count; i++)
        {
            errors.Require(IPNetwork.TryParse(options.KnownNetworks[i], out _), $"{nameof(options.KnownNetworks)}:{i}", "must be a network in CIDR notation, such as 10.0.0.0/8");
        }

        return errors.Positive(nameof(options.ForwardLimit), options.ForwardLimit).Result();
    }
}
