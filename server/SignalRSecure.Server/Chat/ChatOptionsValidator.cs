using Microsoft.Extensions.Options;

namespace SignalRSecure.Server.Chat;

/// <summary>Fails start-up on chat limits that are not positive, naming the configuration key.</summary>
internal sealed class ChatOptionsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions options)
    {
        List<string> errors = [];
        if (options.MaximumTextLength <= 0)
        {
            errors.Add($"{ChatOptions.SectionName}:{nameof(options.MaximumTextLength)} must be greater than zero.");
        }

        if (options.MaximumGroupsPerConnection <= 0)
        {
            errors.Add($"{ChatOptions.SectionName}:{nameof(options.MaximumGroupsPerConnection)} must be greater than zero.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
