using System.CommandLine;
using Mallard.QuicLb;

namespace Mallard.Cli.Cid;

/// <summary><c>mallard cid encode</c>: prints a connection ID for a server ID as lowercase hex.</summary>
internal static class CidEncodeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var configOptions = new CidConfigOptions();
        var serverId = new Option<string>("--server-id")
        {
            Description = "Server ID as hex digits (exactly --sid-len octets).",
            Required = true,
        };
        var nonce = new Option<string?>("--nonce")
        {
            Description = "Nonce as hex digits (exactly --nonce-len octets); random when absent.",
        };

        var command = new Command("encode", "Print a QUIC-LB connection ID that carries a server ID, as lowercase hex.");
        configOptions.AddTo(command, encodes: true);
        command.Options.Add(serverId);
        command.Options.Add(nonce);
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            (QuicLbConfig config, byte[] serverIdOctets) = configOptions.ResolveServer(parse, parse.GetValue(serverId)!);
            var encoder = new ConnectionIdEncoder(config, serverIdOctets);
            var connectionId = new byte[config.ConnectionIdLength];
            string? nonceText = parse.GetValue(nonce);
            if (nonceText is null)
            {
                encoder.Issue(connectionId);
            }
            else
            {
                byte[] nonceOctets = CidCommand.ParseHex(nonceText, "--nonce");
                if (nonceOctets.Length != config.NonceLength)
                {
                    throw new CliException($"--nonce is {nonceOctets.Length} octets; config {config.ConfigId} needs exactly {config.NonceLength}.");
                }

                encoder.Encode(nonceOctets, connectionId);
            }

            output.WriteLine(Convert.ToHexStringLower(connectionId));
            return 0;
        }));
        return command;
    }
}
