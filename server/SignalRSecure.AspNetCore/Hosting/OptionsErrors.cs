using Microsoft.Extensions.Options;

namespace SignalRSecure.AspNetCore.Hosting;

/// <summary>Collects option errors, each naming its configuration key, into one <see cref="ValidateOptionsResult"/>.</summary>
internal sealed class OptionsErrors(string section)
{
    private readonly List<string> _errors = [];

    public OptionsErrors Positive(string key, TimeSpan value, TimeSpan? maximum = null)
    {
        if (value <= TimeSpan.Zero || (maximum is { } max && value > max))
        {
            Add(key, maximum is { } m ? $"must be greater than zero and at most {m}" : "must be greater than zero");
        }

        return this;
    }

    public OptionsErrors Positive(string key, long value)
    {
        if (value <= 0)
        {
            Add(key, "must be greater than zero");
        }

        return this;
    }

    public OptionsErrors Require(bool condition, string key, string problem)
    {
        if (!condition)
        {
            Add(key, problem);
        }

        return this;
    }

    public void Add(string key, string problem) => _errors.Add($"{section}:{key} {problem}.");

    public ValidateOptionsResult Result() =>
        _errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_errors);
}
