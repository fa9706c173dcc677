using System.CommandLine;

namespace Mallard.Cli.Cid;

/// <summary><c>mallard cid</c>: encode and decode QUIC-LB connection IDs (draft-ietf-quic-load-balancers-21).</summary>
internal static class CidCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("cid", "Encode and decode QUIC-LB connection IDs (draft-ietf-quic-load-balancers-21).");
        command.Subcommands.Add(CidEncodeCommand.Create(output, error));
        command.Subcommands.Add(CidDecodeCommand.Create(output, error));
        return command;
    }

    /// <summary>Parses hex digits (an optional 0x prefix allowed), or throws a <see cref="CliException"/> naming what was being parsed.</summary>
    public static byte[] ParseHex(string text, string what, int exitCode = CliException.UsageExitCode)
    {
        string digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length == 0 || digits.Length % 2 != 0 || !digits.All(char.IsAsciiHexDigit))
        {
            throw new CliException($"{what} \"{text}\" is not an even number of hex digits.", exitCode);
        }

        return Convert.FromHexString(digits);
    }
}
