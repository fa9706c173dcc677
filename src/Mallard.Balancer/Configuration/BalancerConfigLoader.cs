using System.Globalization;
using System.Net;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;

namespace Mallard.Balancer.Configuration;

/// <summary>
/// Reads and validates the <c>Mallard:Balancer</c> section (JSON file plus environment variable
/// overrides such as <c>Mallard__Balancer__Workers=4</c>). Every error names the configuration
/// path of the field and what is allowed.
/// </summary>
public static class BalancerConfigLoader
{
    /// <summary>The configuration path of the balancer section.</summary>
    public const string SectionPath = "Mallard:Balancer";

    private static readonly string[] KnownFields =
        ["Listen", "Admin", "Configs", "Backends", "RouteBy", "ReturnPath", "Fallback", "Proxy", "Health", "Workers", "Otlp"];

    /// <summary>
    /// The built-in configuration used without <c>--config</c>: listen on 127.0.0.1:4433, admin on
    /// 127.0.0.1:9901, one plaintext config (ID 0, 4-octet server IDs, 8-octet nonces) and two
    /// backends, 127.0.0.1:4434 with server ID 41414141 ("AAAA") and 127.0.0.1:4435 with 42424242 ("BBBB").
    /// </summary>
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
    {
        ["Mallard:Balancer:Listen:0"] = "127.0.0.1:4433",
        ["Mallard:Balancer:Admin"] = "127.0.0.1:9901",
        ["Mallard:Balancer:Configs:0:Id"] = "0",
        ["Mallard:Balancer:Configs:0:ServerIdLength"] = "4",
        ["Mallard:Balancer:Configs:0:NonceLength"] = "8",
        ["Mallard:Balancer:Backends:0:Address"] = "127.0.0.1:4434",
        ["Mallard:Balancer:Backends:0:ServerIds:0"] = "41414141",
        ["Mallard:Balancer:Backends:1:Address"] = "127.0.0.1:4435",
        ["Mallard:Balancer:Backends:1:ServerIds:0"] = "42424242",
    };

    /// <summary>Builds the configuration sources: the file (or the built-in defaults) and then environment variables.</summary>
    /// <exception cref="MallardConfigException">The file is missing or is not valid JSON.</exception>
    public static IConfigurationRoot OpenSources(string? path)
    {
        var builder = new ConfigurationBuilder();
        if (path is null)
        {
            builder.AddInMemoryCollection(Defaults);
        }
        else
        {
            string fullPath = Path.GetFullPath(path);
            if (!File.Exists(fullPath))
            {
                throw new MallardConfigException(path, "the configuration file does not exist.");
            }

            builder.AddJsonFile(fullPath, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables();
        try
        {
            return builder.Build();
        }
        catch (Exception error) when (error is InvalidDataException or FormatException or IOException)
        {
            throw new MallardConfigException(path ?? "(defaults)", $"not valid JSON: {(error.InnerException ?? error).Message}", error);
        }
    }

    /// <summary>Loads and validates a file (or the defaults when <paramref name="path"/> is null), with environment overrides.</summary>
    /// <exception cref="MallardConfigException">Any field is invalid.</exception>
    public static BalancerSettings LoadFile(string? path) => Load(OpenSources(path));

    /// <summary>Validates the <c>Mallard:Balancer</c> section of <paramref name="configuration"/>.</summary>
    /// <exception cref="MallardConfigException">Any field is invalid.</exception>
    public static BalancerSettings Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection section = configuration.GetSection(SectionPath);
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!KnownFields.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new MallardConfigException(child.Path, $"unknown field; the balancer section takes {string.Join(", ", KnownFields)}.");
            }
        }

        ReturnPathMode defaultReturnPath = ParseReturnPath(section["ReturnPath"], $"{SectionPath}:ReturnPath") ?? ReturnPathMode.PerClientAddress;
        IReadOnlyList<ListenerSettings> listeners = LoadListeners(section.GetSection("Listen"), defaultReturnPath);
        IPEndPoint? admin = LoadAdmin(section.GetSection("Admin"));
        IReadOnlyList<QuicLbConfig> configs = QuicLbConfigLoader.Load(configuration);
        IReadOnlyList<BackendSettings> backends = LoadBackends(section.GetSection("Backends"), configs);
        RouteBy routeBy = section["RouteBy"] switch
        {
            null or "connection-id" => RouteBy.ConnectionId,
            "client-address" => RouteBy.ClientAddress,
            string other => throw new MallardConfigException($"{SectionPath}:RouteBy", $"\"{other}\" is not a routing mode; use connection-id (default) or client-address."),
        };

        return new BalancerSettings(
            listeners,
            admin,
            configs,
            backends,
            routeBy,
            LoadFallback(section.GetSection("Fallback")),
            LoadProxy(section.GetSection("Proxy")),
            LoadHealth(section.GetSection("Health")),
            LoadWorkers(section.GetSection("Workers")))
        {
            Otlp = LoadOtlp(section.GetSection("Otlp")),
        };
    }

    /// <summary>Parses <c>ADDRESS:PORT</c> (IPv6 in brackets) with a message naming <paramref name="path"/>.</summary>
    public static IPEndPoint ParseEndpoint(string? text, string path, bool allowPortZero)
    {
        if (string.IsNullOrWhiteSpace(text) || !IPEndPoint.TryParse(text, out IPEndPoint? endpoint) || !text.Contains(':', StringComparison.Ordinal)
            || (text.Count(c => c == ':') > 1 && !text.StartsWith('[')))
        {
            throw new MallardConfigException(path, $"\"{text}\" is not an address; write IP:PORT, for example 127.0.0.1:4433 or [::1]:4433.");
        }

        if (endpoint.Port == 0 && !allowPortZero)
        {
            throw new MallardConfigException(path, $"\"{text}\" has port 0; a backend port is 1 to 65535.");
        }

        return endpoint;
    }

    private static ReturnPathMode? ParseReturnPath(string? text, string path) => text switch
    {
        null => null,
        "per-client-address" => ReturnPathMode.PerClientAddress,
        "per-connection" => ReturnPathMode.PerConnection,
        _ => throw new MallardConfigException(path, $"\"{text}\" is not a return-path mode; use per-client-address (default) or per-connection."),
    };

    private static List<ListenerSettings> LoadListeners(IConfigurationSection section, ReturnPathMode defaultReturnPath)
    {
        var listeners = new List<ListenerSettings>();
        foreach (IConfigurationSection entry in section.GetChildren())
        {
            if (entry.Value is not null)
            {
                listeners.Add(new ListenerSettings(ParseEndpoint(entry.Value, entry.Path, allowPortZero: true), defaultReturnPath));
                continue;
            }

            ListenerOptions options = Bind(entry, static (s, o) => s.Get<ListenerOptions>(o));
            listeners.Add(new ListenerSettings(
                ParseEndpoint(options.Address, $"{entry.Path}:Address", allowPortZero: true),
                ParseReturnPath(options.ReturnPath, $"{entry.Path}:ReturnPath") ?? defaultReturnPath));
        }

        if (listeners.Count == 0)
        {
            throw new MallardConfigException(section.Path, "no listen address is given; add one, for example \"Listen\": [ \"127.0.0.1:4433\" ].");
        }

        var seen = new HashSet<IPEndPoint>();
        for (int i = 0; i < listeners.Count; i++)
        {
            if (listeners[i].Endpoint.Port != 0 && !seen.Add(listeners[i].Endpoint))
            {
                throw new MallardConfigException($"{section.Path}:{i}", $"{listeners[i].Endpoint} is listed twice.");
            }
        }

        return listeners;
    }

    private static IPEndPoint? LoadAdmin(IConfigurationSection section)
    {
        if (section.Value is null)
        {
            return section.Exists()
                ? throw new MallardConfigException(section.Path, "write the admin address as IP:PORT, or \"off\".")
                : new IPEndPoint(IPAddress.Loopback, 9901);
        }

        return section.Value is "" or "off" ? null : ParseEndpoint(section.Value, section.Path, allowPortZero: true);
    }

    private static List<BackendSettings> LoadBackends(IConfigurationSection section, IReadOnlyList<QuicLbConfig> configs)
    {
        var backends = new List<BackendSettings>();
        var addresses = new Dictionary<IPEndPoint, string>();
        var owners = new Dictionary<(int ConfigId, ServerId ServerId), string>();
        foreach (IConfigurationSection entry in section.GetChildren())
        {
            BackendOptions options = Bind(entry, static (s, o) => s.Get<BackendOptions>(o));
            IPEndPoint address = ParseEndpoint(options.Address, $"{entry.Path}:Address", allowPortZero: false);
            if (addresses.TryGetValue(address, out string? earlier))
            {
                throw new MallardConfigException($"{entry.Path}:Address", $"{address} is already the address of {earlier}.");
            }

            addresses.Add(address, entry.Path);
            int weight = options.Weight ?? 1;
            if (weight is < 0 or > 1000)
            {
                throw new MallardConfigException($"{entry.Path}:Weight", string.Create(CultureInfo.InvariantCulture, $"weight is {weight}; it must be 0 (drain) to 1000."));
            }

            var serverIds = new Dictionary<int, ServerId>();
            foreach ((string key, string hex) in options.ServerIds ?? [])
            {
                string path = $"{entry.Path}:ServerIds:{key}";
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int configId) || configId > QuicLbConfig.MaxConfigId)
                {
                    throw new MallardConfigException(path, $"\"{key}\" is not a config ID; server IDs are keyed by config ID, 0 to 6.");
                }

                QuicLbConfig config = configs.FirstOrDefault(c => c.ConfigId == configId)
                    ?? throw new MallardConfigException(path, string.Create(CultureInfo.InvariantCulture, $"config ID {configId} is not among Mallard:Balancer:Configs."));
                ServerId serverId = ParseServerId(hex, config.ServerIdLength, path);
                if (owners.TryGetValue((configId, serverId), out string? owner))
                {
                    throw new MallardConfigException(path, string.Create(CultureInfo.InvariantCulture, $"server ID {serverId} under config {configId} already belongs to {owner}; server IDs must be unique within a config."));
                }

                owners.Add((configId, serverId), entry.Path);
                serverIds.Add(configId, serverId);
            }

            backends.Add(new BackendSettings(address, weight, serverIds));
        }

        if (backends.Count == 0)
        {
            throw new MallardConfigException(section.Path, "no backend is given; add at least one { \"Address\", \"ServerIds\" } entry.");
        }

        return backends;
    }

    private static ServerId ParseServerId(string? hex, int length, string path)
    {
        string digits = hex is not null && hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex ?? string.Empty;
        if (digits.Length != 2 * length || !digits.All(char.IsAsciiHexDigit))
        {
            throw new MallardConfigException(path, string.Create(CultureInfo.InvariantCulture,
                $"\"{hex}\" is not a server ID of this config; write exactly {length} octets as {2 * length} hex digits."));
        }

        return new ServerId(Convert.FromHexString(digits));
    }

    private static FallbackSettings LoadFallback(IConfigurationSection section)
    {
        FallbackOptions options = section.Exists() ? Bind(section, static (s, o) => s.Get<FallbackOptions>(o)) : new FallbackOptions();
        if (options.Algorithm is not (null or "maglev"))
        {
            throw new MallardConfigException($"{section.Path}:Algorithm", $"\"{options.Algorithm}\" is not a fallback algorithm; use maglev.");
        }

        int tableSize = options.TableSize ?? 65_537;
        if (tableSize is < 251 or > 1_048_573 || !IsPrime(tableSize))
        {
            throw new MallardConfigException($"{section.Path}:TableSize", string.Create(CultureInfo.InvariantCulture, $"{tableSize} must be a prime from 251 to 1048573, for example 65537."));
        }

        return new FallbackSettings(
            tableSize,
            Positive(options.FlowIdleTimeout ?? TimeSpan.FromSeconds(30), $"{section.Path}:FlowIdleTimeout"),
            InRange(options.MaxTableEntries ?? 1 << 20, 1, 1 << 24, $"{section.Path}:MaxTableEntries"));
    }

    private static ProxySettings LoadProxy(IConfigurationSection section)
    {
        ProxyOptions options = section.Exists() ? Bind(section, static (s, o) => s.Get<ProxyOptions>(o)) : new ProxyOptions();
        TimeSpan hold = options.ReturnPathHoldTime ?? TimeSpan.FromMilliseconds(250);
        if (hold < TimeSpan.Zero)
        {
            throw new MallardConfigException($"{section.Path}:ReturnPathHoldTime", "must not be negative.");
        }

        int maxFlows = InRange(options.MaxFlows ?? 16_384, 1, 1 << 20, $"{section.Path}:MaxFlows");
        string? journal = options.FlowJournal is null or "" or "off" ? null : Path.GetFullPath(options.FlowJournal);
        if (journal is not null && !Directory.Exists(Path.GetDirectoryName(journal)))
        {
            throw new MallardConfigException($"{section.Path}:FlowJournal", $"the folder of \"{options.FlowJournal}\" does not exist; name a file in an existing folder the balancer may write, for example /var/lib/mallard/flows, or \"off\".");
        }

        string? handOver = options.HandOverSocket is null or "" or "off" ? null : Path.GetFullPath(options.HandOverSocket);
        if (handOver is not null && !Directory.Exists(Path.GetDirectoryName(handOver)))
        {
            throw new MallardConfigException($"{section.Path}:HandOverSocket", $"the folder of \"{options.HandOverSocket}\" does not exist; name a socket in an existing folder only the balancer's user may write, for example /run/mallard/handover, or \"off\".");
        }

        // The balancer replaces a stale socket there; anything else would be lost, so it is refused.
        if (handOver is not null && (handOver == journal || (OperatingSystem.IsLinux() && Mallard.Linux.LinuxNative.IsNonSocket(handOver))))
        {
            throw new MallardConfigException($"{section.Path}:HandOverSocket", $"\"{handOver}\" is {(handOver == journal ? "the flow journal" : "a file that is not a socket")}; name a path of its own (the balancer creates the socket there), for example /run/mallard/handover, or \"off\".");
        }

        // sun_path holds 108 octets with the terminating zero; the socket is first bound under a name with ".PID" added.
        if (handOver is not null && System.Text.Encoding.UTF8.GetByteCount(handOver) > 107 - 8)
        {
            throw new MallardConfigException($"{section.Path}:HandOverSocket", $"\"{handOver}\" is longer than 99 octets, the most a Unix socket path may be here.");
        }

        return new ProxySettings(
            maxFlows,
            InRange(options.MaxFlowsPerSourceAddress ?? Math.Min(1024, maxFlows), 1, maxFlows, $"{section.Path}:MaxFlowsPerSourceAddress"),
            Positive(options.FlowIdleTimeout ?? TimeSpan.FromSeconds(30), $"{section.Path}:FlowIdleTimeout"),
            hold,
            InRange(options.MaxDatagramSize ?? 4096, 1200, 65_527, $"{section.Path}:MaxDatagramSize"),
            ParsePortRange(options.UpstreamPorts ?? "16384-32767", $"{section.Path}:UpstreamPorts"))
        {
            FlowJournal = journal,
            HandOverSocket = handOver,
        };
    }

    private static PortRange? ParsePortRange(string text, string path)
    {
        if (text == "ephemeral")
        {
            return null;
        }

        string[] parts = text.Split('-');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int last)
            && first >= 1024 && last <= 65_535 && first <= last)
        {
            return new PortRange(first, last);
        }

        throw new MallardConfigException(path, $"\"{text}\" is not a port range; write FIRST-LAST within 1024-65535 (for example 16384-32767), or ephemeral.");
    }

    private static HealthCheckSettings LoadHealth(IConfigurationSection section)
    {
        HealthCheckOptions options = section.Exists() ? Bind(section, static (s, o) => s.Get<HealthCheckOptions>(o)) : new HealthCheckOptions();
        TimeSpan interval = Positive(options.Interval ?? TimeSpan.FromSeconds(2), $"{section.Path}:Interval");
        TimeSpan timeout = Positive(options.Timeout ?? TimeSpan.FromSeconds(1), $"{section.Path}:Timeout");
        if (timeout > interval)
        {
            throw new MallardConfigException($"{section.Path}:Timeout", $"{timeout} is longer than the interval {interval}; a probe must finish before the next starts.");
        }

        return new HealthCheckSettings(
            options.Enabled ?? true,
            interval,
            timeout,
            InRange(options.UnhealthyThreshold ?? 3, 1, 100, $"{section.Path}:UnhealthyThreshold"),
            InRange(options.HealthyThreshold ?? 2, 1, 100, $"{section.Path}:HealthyThreshold"));
    }

    private static OtlpSettings? LoadOtlp(IConfigurationSection section)
    {
        if (!section.Exists() || section.Value is "off")
        {
            return null;
        }

        OtlpOptions options = Bind(section, static (s, o) => s.Get<OtlpOptions>(o));
        if (Uri.TryCreate(options.Endpoint, UriKind.Absolute, out Uri? withUser) && withUser.UserInfo.Length > 0)
        {
            // Not quoted: the message is logged, and the address holds a password.
            throw new MallardConfigException($"{section.Path}:Endpoint", "the collector address carries a user name or password; write it without them.");
        }

        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out Uri? endpoint) || endpoint.Scheme is not ("http" or "https")
            || endpoint.Query.Length > 0 || endpoint.Fragment.Length > 0)
        {
            throw new MallardConfigException($"{section.Path}:Endpoint", $"\"{options.Endpoint}\" is not a collector address; write http://HOST:PORT or https://HOST:PORT, with a path if the collector has one but no query or fragment, for example http://127.0.0.1:4318.");
        }

        bool grpc = options.Protocol switch
        {
            null or "http/protobuf" => false,
            "grpc" => true,
            string other => throw new MallardConfigException($"{section.Path}:Protocol", $"\"{other}\" is not an OTLP protocol; use http/protobuf (default) or grpc."),
        };
        TimeSpan interval = options.Interval ?? TimeSpan.FromSeconds(30);
        if (interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromHours(1))
        {
            throw new MallardConfigException($"{section.Path}:Interval", $"{interval} is out of range; it must be 00:00:01 to 01:00:00.");
        }

        return new OtlpSettings(endpoint, grpc, interval);
    }

    private static int LoadWorkers(IConfigurationSection section)
    {
        if (section.Value is null)
        {
            return Environment.ProcessorCount;
        }

        if (!int.TryParse(section.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int workers) || workers > 256)
        {
            throw new MallardConfigException(section.Path, $"\"{section.Value}\" is not a worker count; use 1 to 256, or 0 for one per core.");
        }

        return workers == 0 ? Environment.ProcessorCount : workers;
    }

    /// <summary>
    /// Binds one section, refusing keys the options type does not have. The caller names the
    /// type in its own <c>Get</c> call so that the configuration binder's source generator sees a
    /// concrete type (a generic call here would need reflection, which Native AOT does not keep).
    /// </summary>
    private static T Bind<T>(IConfigurationSection section, Func<IConfigurationSection, Action<BinderOptions>, T?> get)
        where T : new()
    {
        try
        {
            return get(section, static binder => binder.ErrorOnUnknownConfiguration = true) ?? new T();
        }
        catch (InvalidOperationException error)
        {
            throw new MallardConfigException(section.Path, error.Message, error);
        }
    }

    private static int InRange(int value, int min, int max, string path) =>
        value >= min && value <= max ? value
            : throw new MallardConfigException(path, string.Create(CultureInfo.InvariantCulture, $"{value} is out of range; it must be {min} to {max}."));

    private static TimeSpan Positive(TimeSpan value, string path) =>
        value > TimeSpan.Zero ? value
            : throw new MallardConfigException(path, $"{value} must be longer than zero (write hh:mm:ss, for example 00:00:30).");

    private static bool IsPrime(int n)
    {
        if (n % 2 == 0)
        {
            return n == 2;
        }

        for (int d = 3; d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
