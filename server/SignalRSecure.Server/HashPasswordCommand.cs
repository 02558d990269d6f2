using SignalRSecure.AspNetCore.Accounts;

namespace SignalRSecure.Server;

/// <summary>
/// <c>SignalRSecure.Server hash-password</c>: reads a password from standard input (one line) and prints its hash
/// for <c>SignalRSecure:Users:N:PasswordHash</c>. Reading stdin keeps the password out of the shell history.
/// </summary>
public static class HashPasswordCommand
{
    /// <summary>The command-line verb.</summary>
    public const string Verb = "hash-password";

    /// <summary>Runs the command; returns the process exit code.</summary>
    /// <param name="input">Where the password is read from.</param>
    /// <param name="output">Where the hash is written.</param>
    /// <param name="error">Where problems are reported.</param>
    /// <returns>0 on success, 1 on an empty password.</returns>
    public static int Run(TextReader input, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var password = input.ReadLine();
        if (string.IsNullOrEmpty(password) || password.Length > PasswordHasher.MaximumPasswordLength)
        {
            error.WriteLine($"Write a password of 1 to {PasswordHasher.MaximumPasswordLength} characters to standard input.");
            return 1;
        }

        output.WriteLine(PasswordHasher.Hash(password));
        return 0;
    }
}
