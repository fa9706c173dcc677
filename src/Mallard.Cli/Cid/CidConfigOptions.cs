using System.CommandLine;
using System.Globalization;
using Mallard.Balancer.Configuration;
using Mallard.QuicLb;

namespace Mallard.Cli.Cid;

/// <summary>
/// The options that describe QUIC-LB configurations on the command line, shared by
/// <c>cid encode</c> and <c>cid decode</c>: either one config given inline
/// (<c>--config-id --sid-len --nonce-len [--key] [--encode-length]</c>) or several read from a
/// JSON file (<c>--config FILE</c>).
/// </summary>
internal sealed class CidConfigOptions
{
    /// <summary>The options; <paramref name="keyOption"/> names the AES key's option where <c>--key</c> already means something else (a TLS key).</summary>
    public CidConfigOptions(string keyOption = "--key")
    {
        Key = new Option<string?>(keyOption)
        {
            Description = "AES-128 key as 32 hex digits; without it connection IDs are plaintext.",
        };
    }

    public Option<int?> ConfigId { get; } = new("--config-id")
    {
        Description = "Config rotation codepoint, 0 to 6.",
    };

    public Option<int?> ServerIdLength { get; } = new("--sid-len")
    {
        Description = "Server ID length in octets, 1 to 15.",
    };

    public Option<int?> NonceLength { get; } = new("--nonce-len")
    {
        Description = "Nonce length in octets, 4 to 18 (server ID + nonce at most 19).",
    };

    public Option<string?> Key { get; }

    public Option<bool> EncodeLength { get; } = new("--encode-length")
    {
        Description = "Self-encode the connection ID length in the low five bits of the first octet.",
    };

    public Option<FileInfo?> ConfigFile { get; } = new("--config")
    {
        Description = "JSON file with configurations under Mallard:Balancer:Configs (the balancer's format).",
    };

    /// <summary>Adds the options; <c>--encode-length</c> only where connection IDs are written.</summary>
    public void AddTo(Command command, bool encodes)
    {
        command.Options.Add(ConfigId);
        command.Options.Add(ServerIdLength);
        command.Options.Add(NonceLength);
        command.Options.Add(Key);
        if (encodes)
        {
            command.Options.Add(EncodeLength);
        }

        command.Options.Add(ConfigFile);
    }

    /// <summary>
    /// The configurations the options describe. Inline, <paramref name="defaultConfigId"/> stands
    /// in when <c>--config-id</c> is absent; null makes <c>--config-id</c> required.
    /// </summary>
    public IReadOnlyList<QuicLbConfig> Resolve(ParseResult parse, int? defaultConfigId)
    {
        FileInfo? file = parse.GetValue(ConfigFile);
        if (file is not null)
        {
            if (parse.GetValue(ServerIdLength) is not null || parse.GetValue(NonceLength) is not null || parse.GetValue(Key) is not null)
            {
                throw new CliException($"give either --config FILE or --sid-len/--nonce-len/{Key.Name}, not both.");
            }

            return QuicLbConfigLoader.LoadFile(file.FullName);
        }

        int configId = parse.GetValue(ConfigId) ?? defaultConfigId
            ?? throw new CliException("--config-id is required (0 to 6), or give --config FILE.");
        var options = new QuicLbConfigOptions
        {
            Id = configId,
            ServerIdLength = parse.GetValue(ServerIdLength) ?? throw new CliException("--sid-len is required (1 to 15), or give --config FILE."),
            NonceLength = parse.GetValue(NonceLength) ?? throw new CliException("--nonce-len is required (4 to 18), or give --config FILE."),
            Key = parse.GetValue(Key),
            EncodeLength = parse.GetValue(EncodeLength),
        };

        try
        {
            return [QuicLbConfigLoader.Build(options, "options")];
        }
        catch (MallardConfigException error)
        {
            throw new CliException(InlineMessage(error));
        }
    }

    /// <summary>
    /// The one configuration a server issues connection IDs under, with its server ID parsed from
    /// <paramref name="serverIdHex"/> and checked against the configuration's length.
    /// </summary>
    public (QuicLbConfig Config, byte[] ServerId) ResolveServer(ParseResult parse, string serverIdHex)
    {
        QuicLbConfig config = Select(Resolve(parse, defaultConfigId: null), parse.GetValue(ConfigId));
        byte[] serverId = CidCommand.ParseHex(serverIdHex, "--server-id");
        if (serverId.Length != config.ServerIdLength)
        {
            throw new CliException($"--server-id is {serverId.Length} octets; config {config.ConfigId} needs exactly {config.ServerIdLength}.");
        }

        return (config, serverId);
    }

    // With a config file, --config-id picks the entry; a file with one entry needs no choice.
    private static QuicLbConfig Select(IReadOnlyList<QuicLbConfig> configs, int? configId)
    {
        if (configId is null)
        {
            return configs.Count == 1 ? configs[0]
                : throw new CliException($"the file holds {configs.Count} configurations; choose one with --config-id ({string.Join(", ", configs.Select(c => c.ConfigId))}).");
        }

        return configs.FirstOrDefault(c => c.ConfigId == configId)
            ?? throw new CliException($"--config-id {configId} is not in the file; it holds {string.Join(", ", configs.Select(c => c.ConfigId))}.");
    }

    // "options:NonceLength: ..." reads better on a command line as "--nonce-len: ...".
    private string InlineMessage(MallardConfigException error)
    {
        string option = error.Path switch
        {
            "options:Id" => "--config-id",
            "options:ServerIdLength" => "--sid-len",
            "options:NonceLength" => "--nonce-len",
            "options:Key" => Key.Name,
            _ => error.Path,
        };
        string message = error.Message[(error.Path.Length + 2)..];
        return string.Create(CultureInfo.InvariantCulture, $"{option}: {message}");
    }
}
