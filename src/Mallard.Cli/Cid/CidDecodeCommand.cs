using System.CommandLine;
using System.Text.Json;
using Mallard.QuicLb;

namespace Mallard.Cli.Cid;

/// <summary>
/// <c>mallard cid decode</c>: prints the server ID and nonce a connection ID carries. An
/// unroutable or malformed connection ID exits with code 2 and a one-line reason on stderr.
/// </summary>
internal static class CidDecodeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var configOptions = new CidConfigOptions();
        configOptions.ConfigId.Description = "Config rotation codepoint, 0 to 6; defaults to the connection ID's own first three bits.";
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object: {\"configId\":C,\"serverId\":\"hex\",\"nonce\":\"hex\"}.",
        };
        var connectionIdArgument = new Argument<string>("CID")
        {
            Description = "The connection ID as hex digits, first octet included.",
        };

        var command = new Command("decode", "Print the server ID and nonce that a QUIC-LB connection ID carries.");
        configOptions.AddTo(command, encodes: false);
        command.Options.Add(json);
        command.Arguments.Add(connectionIdArgument);
        command.SetAction(parse => MallardCommand.Guard(error, () =>
        {
            byte[] connectionId = CidCommand.ParseHex(parse.GetValue(connectionIdArgument)!, "connection ID", CliException.InputExitCode);
            if (connectionId.Length > QuicLbConfig.MaxCombinedLength + 1)
            {
                throw new CliException($"connection ID is {connectionId.Length} octets; QUIC v1 connection IDs are at most 20.", CliException.InputExitCode);
            }

            // Without --config-id the connection ID's own config bits choose; 0b111 is reported as unroutable below.
            int ownConfigId = connectionId[0] >> 5;
            int defaultConfigId = ownConfigId == QuicLbConfig.UnroutableConfigId ? 0 : ownConfigId;
            var decoder = new ConnectionIdDecoder(configOptions.Resolve(parse, defaultConfigId));
            Span<byte> nonce = stackalloc byte[QuicLbConfig.MaxNonceLength];
            QuicLbDecodeResult result = decoder.DecodeWithNonce(connectionId, nonce, out int nonceLength);
            if (!result.IsRoutable)
            {
                throw new CliException(Explain(result, connectionId, decoder), CliException.InputExitCode);
            }

            string nonceHex = Convert.ToHexStringLower(nonce[..nonceLength]);
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new DecodedConnectionId(result.ConfigId, result.ServerId.ToString(), nonceHex), CliJsonContext.Default.DecodedConnectionId));
            }
            else
            {
                output.WriteLine($"config-id {result.ConfigId}");
                output.WriteLine($"server-id {result.ServerId}");
                output.WriteLine($"nonce {nonceHex}");
            }

            return 0;
        }));
        return command;
    }

    private static string Explain(QuicLbDecodeResult result, byte[] connectionId, ConnectionIdDecoder decoder) => result.Reason switch
    {
        UnroutableReason.UnroutableConfigId => "unroutable: the config rotation bits are 0b111 (the server had no QUIC-LB configuration).",
        UnroutableReason.UnknownConfigId => $"unroutable: config ID {result.ConfigId} has no configuration (loaded: {string.Join(", ", decoder.Configs.Select(c => c.ConfigId))}).",
        _ => $"unroutable: the connection ID is {connectionId.Length} octets; config {result.ConfigId} needs {decoder.GetConfig(result.ConfigId)?.ConnectionIdLength}.",
    };
}
