using Microsoft.Extensions.Options;

namespace SignalRSecure.Server.Chat;

/// <summary>Fails start-up on chat limits that are not positive, naming the configuration key.</summary>
internal sealed class ChatOptionsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions options)
    {
        List<string> errors = [];
        Positive(errors, nameof(options.MaximumTextLength), options.MaximumTextLength);
        Positive(errors, nameof(options.MaximumGroupsPerConnection), options.MaximumGroupsPerConnection);
        Positive(errors, nameof(options.HistoryLength), options.HistoryLength);
        Positive(errors, nameof(options.HistoryGroups), options.HistoryGroups);
        Positive(errors, nameof(options.HistoryPageSize), options.HistoryPageSize);
        if (options.HistoryLifetime <= TimeSpan.Zero)
        {
            errors.Add($"{ChatOptions.SectionName}:{nameof(options.HistoryLifetime)} must be greater than zero.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string key, int value)
    {
        if (value <= 0)
        {
            errors.Add($"{ChatOptions.SectionName}:{key} must be greater than zero.");
        }
    }
}
