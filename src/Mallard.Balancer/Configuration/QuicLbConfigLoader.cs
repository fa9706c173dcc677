using System.Globalization;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;

namespace Mallard.Balancer.Configuration;

/// <summary>
/// Reads QUIC-LB configurations from the <c>Mallard:Balancer:Configs</c> section, the shape
/// shared by <c>mallard cid --config</c> and the balancer, and validates each into a
/// <see cref="QuicLbConfig"/> with errors that name the offending field.
/// </summary>
public static class QuicLbConfigLoader
{
    /// <summary>The configuration path of the list of QUIC-LB configurations.</summary>
    public const string SectionPath = "Mallard:Balancer:Configs";

    /// <summary>Loads and validates the configurations in a JSON file.</summary>
    /// <exception cref="MallardConfigException">The file is missing, unreadable or invalid.</exception>
    public static IReadOnlyList<QuicLbConfig> LoadFile(string path)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new MallardConfigException(path, "the configuration file does not exist.");
        }

        IConfigurationRoot configuration;
        try
        {
            configuration = new ConfigurationBuilder().AddJsonFile(fullPath, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception error) when (error is InvalidDataException or FormatException or IOException)
        {
            throw new MallardConfigException(path, $"not valid JSON: {(error.InnerException ?? error).Message}", error);
        }

        return Load(configuration);
    }

    /// <summary>Validates the configurations in <c>Mallard:Balancer:Configs</c>.</summary>
    /// <exception cref="MallardConfigException">A field is missing or out of range, or two entries share an ID.</exception>
    public static IReadOnlyList<QuicLbConfig> Load(IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection(SectionPath);
        var entries = section.GetChildren().ToList();
        if (entries.Count == 0)
        {
            throw new MallardConfigException(SectionPath, "no QUIC-LB configuration is given; add at least one { \"Id\", \"ServerIdLength\", \"NonceLength\" } entry.");
        }

        var configs = new List<QuicLbConfig>(entries.Count);
        var seen = new Dictionary<int, string>();
        foreach (IConfigurationSection entry in entries)
        {
            QuicLbConfig config = Build(Bind(entry), entry.Path);
            if (seen.TryGetValue(config.ConfigId, out string? earlier))
            {
                throw new MallardConfigException($"{entry.Path}:Id", string.Create(CultureInfo.InvariantCulture,
                    $"config ID {config.ConfigId} is already used by {earlier}; each config ID (0 to 6) can hold one configuration."));
            }

            seen.Add(config.ConfigId, entry.Path);
            configs.Add(config);
        }

        if (configs.Count > QuicLbConfig.MaxConfigId + 1)
        {
            throw new MallardConfigException(SectionPath, "at most 7 configurations can be live at once.");
        }

        return configs;
    }

    /// <summary>Validates one entry whose configuration path is <paramref name="path"/>.</summary>
    public static QuicLbConfig Build(QuicLbConfigOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        int id = Required(options.Id, path, "Id", "0 to 6");
        int serverIdLength = Required(options.ServerIdLength, path, "ServerIdLength", "1 to 15");
        int nonceLength = Required(options.NonceLength, path, "NonceLength", "4 to 18");
        byte[] key = ParseKey(options.Key, $"{path}:Key");
        try
        {
            return new QuicLbConfig(id, serverIdLength, nonceLength, key, options.EncodeLength);
        }
        catch (QuicLbConfigException error)
        {
            string field = error.ParamName switch
            {
                "configId" => "Id",
                "serverIdLength" => "ServerIdLength",
                "nonceLength" => "NonceLength",
                "key" => "Key",
                _ => error.ParamName ?? "?",
            };
            throw new MallardConfigException($"{path}:{field}", error.Reason, error);
        }
    }

    /// <summary>Parses an AES-128 key written as 32 hex digits; null or empty means no key.</summary>
    public static byte[] ParseKey(string? hex, string path)
    {
        if (string.IsNullOrEmpty(hex))
        {
            return [];
        }

        string digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (digits.Length != 2 * QuicLbConfig.KeyLength || !digits.All(char.IsAsciiHexDigit))
        {
            throw new MallardConfigException(path, $"\"{hex}\" is not an AES-128 key; write exactly 32 hex digits, or leave it out for plaintext connection IDs.");
        }

        return Convert.FromHexString(digits);
    }

    private static QuicLbConfigOptions Bind(IConfigurationSection entry)
    {
        try
        {
            return entry.Get<QuicLbConfigOptions>(binder => binder.ErrorOnUnknownConfiguration = true)
                ?? throw new MallardConfigException(entry.Path, "the entry is empty.");
        }
        catch (InvalidOperationException error)
        {
            throw new MallardConfigException(entry.Path, error.Message, error);
        }
    }

    private static int Required(int? value, string path, string field, string range) =>
        value ?? throw new MallardConfigException($"{path}:{field}", $"{field} is required ({range}).");
}
