using System.Net;
using Mallard.Balancer.Configuration;
using Microsoft.Extensions.Configuration;

namespace Mallard.Balancer.Tests.TestSupport;

/// <summary>Balancer settings for tests, from a JSON file in the test folder or from key/value pairs.</summary>
internal static class TestSettings
{
    public static BalancerSettings FromFile(string relativePath) =>
        BalancerConfigLoader.Load(new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, relativePath)).Build());

    public static BalancerSettings FromPairs(IEnumerable<KeyValuePair<string, string?>> pairs) =>
        BalancerConfigLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(pairs).Build());

    /// <summary>
    /// A loopback balancer on a free port in front of <paramref name="backends"/>, one plaintext
    /// config (ID 0, 4-octet server IDs) and the given extra keys (relative to Mallard:Balancer).
    /// </summary>
    public static BalancerSettings Loopback(IReadOnlyList<(IPEndPoint Address, string ServerId)> backends, params (string Key, string Value)[] extra)
    {
        var pairs = new Dictionary<string, string?>
        {
            ["Mallard:Balancer:Listen:0"] = "127.0.0.1:0",
            ["Mallard:Balancer:Admin"] = "off",
            ["Mallard:Balancer:Workers"] = "2",
            ["Mallard:Balancer:Configs:0:Id"] = "0",
            ["Mallard:Balancer:Configs:0:ServerIdLength"] = "4",
            ["Mallard:Balancer:Configs:0:NonceLength"] = "8",
            ["Mallard:Balancer:Health:Interval"] = "00:00:00.200",
            ["Mallard:Balancer:Health:Timeout"] = "00:00:00.100",
        };
        for (int i = 0; i < backends.Count; i++)
        {
            pairs[$"Mallard:Balancer:Backends:{i}:Address"] = backends[i].Address.ToString();
            pairs[$"Mallard:Balancer:Backends:{i}:ServerIds:0"] = backends[i].ServerId;
        }

        foreach ((string key, string value) in extra)
        {
            pairs[$"Mallard:Balancer:{key}"] = value;
        }

        return FromPairs(pairs);
    }
}
