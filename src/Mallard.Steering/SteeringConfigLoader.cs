using System.Globalization;
using Mallard.Balancer.Configuration;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;

namespace Mallard.Steering;

/// <summary>
/// Reads <c>Mallard:Steering</c> (interface, service port, mode, this server's IDs, the peers)
/// and the QUIC-LB configurations of <c>Mallard:Balancer:Configs</c>, the shape the balancer
/// reads, so one file can describe a fleet. Every error names the field and what is allowed.
/// </summary>
public static class SteeringConfigLoader
{
    /// <summary>The configuration path of the steering section.</summary>
    public const string SectionPath = "Mallard:Steering";

    /// <summary>Loads and validates a JSON file (environment variables override it).</summary>
    /// <exception cref="MallardConfigException">Any field is invalid.</exception>
    public static SteeringSettings LoadFile(string path) => Load(BalancerConfigLoader.OpenSources(path));

    /// <summary>Validates the steering section of <paramref name="configuration"/>.</summary>
    /// <exception cref="MallardConfigException">Any field is invalid.</exception>
    public static SteeringSettings Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfigurationSection section = configuration.GetSection(SectionPath);
        string? name = section["Interface"];
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new MallardConfigException($"{SectionPath}:Interface", "is required: the interface the 4-tuple tier's packets arrive on, for example eth0.");
        }

        int port = int.TryParse(section["ServicePort"] ?? "443", NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed is >= 1 and <= 65535
            ? parsed
            : throw new MallardConfigException($"{SectionPath}:ServicePort", $"\"{section["ServicePort"]}\" is not a port; it must be 1 to 65535.");
        SteeringMode mode = section["Mode"] switch
        {
            null or "auto" => SteeringMode.Auto,
            "native" => SteeringMode.Native,
            "generic" => SteeringMode.Generic,
            "user" => SteeringMode.UserSpace,
            string other => throw new MallardConfigException($"{SectionPath}:Mode", $"\"{other}\" is not a steering mode; use auto (default), native, generic or user."),
        };

        IReadOnlyList<QuicLbConfig> configs = QuicLbConfigLoader.Load(configuration);
        IReadOnlyDictionary<int, byte[]> own = ServerIds(section.GetSection("ServerIds"), configs);
        if (own.Count == 0)
        {
            throw new MallardConfigException($"{SectionPath}:ServerIds", "is required: this server's ID under each configuration, for example { \"0\": \"41414141\" }.");
        }

        // Each server ID belongs to one server: a peer claiming this server's ID (or another
        // peer's) would have the program steer that server's packets away.
        var claimed = new HashSet<(int, string)>(own.Select(p => (p.Key, Convert.ToHexString(p.Value))));
        var macs = new HashSet<string>();
        var peers = new List<SteeringPeer>();
        foreach (IConfigurationSection peer in section.GetSection("Peers").GetChildren())
        {
            byte[] mac = ParseMac(peer["Mac"], $"{peer.Path}:Mac");
            if ((mac[0] & 1) != 0 || mac.All(b => b == 0) || !macs.Add(Convert.ToHexString(mac)))
            {
                throw new MallardConfigException($"{peer.Path}:Mac", $"\"{peer["Mac"]}\" is not one server's address: a peer's MAC is unicast, not all zeros, and given once.");
            }

            IReadOnlyDictionary<int, byte[]> ids = ServerIds(peer.GetSection("ServerIds"), configs);
            foreach ((int configId, byte[] id) in ids)
            {
                if (!claimed.Add((configId, Convert.ToHexString(id))))
                {
                    throw new MallardConfigException($"{peer.Path}:ServerIds:{configId}", $"{Convert.ToHexStringLower(id)} is already this server's or another peer's ID under config {configId}; each server ID names one server.");
                }
            }

            System.Net.IPAddress? address = null;
            if (peer["Address"] is string text)
            {
                address = System.Net.IPAddress.TryParse(text, out System.Net.IPAddress? underlay) && underlay.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                    ? underlay
                    : throw new MallardConfigException($"{peer.Path}:Address", $"\"{text}\" is not an IPv4 address; a peer on another segment is reached by VXLAN over IPv4 at its underlay address.");
            }

            peers.Add(new SteeringPeer(mac, ids) { Address = address });
        }

        SteeringEncapsulation? encapsulation = Encapsulation(section.GetSection("Encapsulation"), required: peers.Any(p => p.Address is not null));

        string admin = section["Admin"] ?? "127.0.0.1:9902";
        return new SteeringSettings(name, port, mode, configs, own, peers)
        {
            Encapsulation = encapsulation,
            Admin = admin == "off" ? null : BalancerConfigLoader.ParseEndpoint(admin, $"{SectionPath}:Admin", allowPortZero: true),
        };
    }

    // VXLAN towards peers on other segments: this server's underlay address, the VNI and port.
    private static SteeringEncapsulation? Encapsulation(IConfigurationSection section, bool required)
    {
        string? text = section["Address"];
        if (text is null)
        {
            return required
                ? throw new MallardConfigException($"{section.Path}:Address", "is required when a peer has an Address: this server's IPv4 address towards the other segments, the source of VXLAN-wrapped frames.")
                : null;
        }

        if (!System.Net.IPAddress.TryParse(text, out System.Net.IPAddress? address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new MallardConfigException($"{section.Path}:Address", $"\"{text}\" is not an IPv4 address.");
        }

        int vni = int.TryParse(section["Vni"] ?? SteeringEncapsulation.DefaultVni.ToString(CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 0xffffff
            ? v
            : throw new MallardConfigException($"{section.Path}:Vni", $"\"{section["Vni"]}\" is not a VXLAN network identifier; it must be 1 to 16777215.");
        int port = int.TryParse(section["Port"] ?? SteeringEncapsulation.DefaultPort.ToString(CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is >= 1 and <= 65535
            ? p
            : throw new MallardConfigException($"{section.Path}:Port", $"\"{section["Port"]}\" is not a port; it must be 1 to 65535.");
        return new SteeringEncapsulation(address, vni, port);
    }

    /// <summary>Parses <c>02:00:00:00:00:0a</c>.</summary>
    public static byte[] ParseMac(string? text, string path)
    {
        string[] parts = (text ?? string.Empty).Split(':');
        var mac = new byte[6];
        if (parts.Length != 6 || !parts.Select((p, i) => p.Length == 2 && byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out mac[i])).All(ok => ok))
        {
            throw new MallardConfigException(path, $"\"{text}\" is not a MAC address; write six hex pairs, for example 02:00:00:00:00:0a.");
        }

        return mac;
    }

    private static IReadOnlyDictionary<int, byte[]> ServerIds(IConfigurationSection section, IReadOnlyList<QuicLbConfig> configs)
    {
        var ids = new Dictionary<int, byte[]>();
        foreach (IConfigurationSection entry in section.GetChildren())
        {
            QuicLbConfig config = (int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? configs.FirstOrDefault(c => c.ConfigId == id) : null)
                ?? throw new MallardConfigException(entry.Path, $"\"{entry.Key}\" is not a configured QUIC-LB config ID ({string.Join(", ", configs.Select(c => c.ConfigId))}).");
            byte[] serverId;
            try
            {
                serverId = Convert.FromHexString(entry.Value ?? string.Empty);
            }
            catch (FormatException)
            {
                throw new MallardConfigException(entry.Path, $"\"{entry.Value}\" is not hex.");
            }

            if (serverId.Length != config.ServerIdLength)
            {
                throw new MallardConfigException(entry.Path, $"is {serverId.Length} octets; config {config.ConfigId} has {config.ServerIdLength}-octet server IDs.");
            }

            ids[config.ConfigId] = serverId;
        }

        return ids;
    }
}
