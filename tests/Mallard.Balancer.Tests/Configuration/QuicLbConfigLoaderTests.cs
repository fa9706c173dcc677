using Mallard.Balancer.Configuration;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;

namespace Mallard.Balancer.Tests.Configuration;

public class QuicLbConfigLoaderTests
{
    [Fact]
    public void LoadsTheExampleFile()
    {
        IReadOnlyList<QuicLbConfig> configs = QuicLbConfigLoader.LoadFile(Path.Combine(RepositoryPaths.Examples, "quic-lb.json"));

        Assert.Equal([0, 1, 2], configs.Select(c => c.ConfigId));
        Assert.Equal(QuicLbAlgorithm.Plaintext, configs[0].Algorithm);
        Assert.Equal(QuicLbAlgorithm.FourPass, configs[1].Algorithm);
        Assert.Equal(QuicLbAlgorithm.SinglePass, configs[2].Algorithm);
        Assert.True(configs[2].EncodesLength);
    }

    [Theory]
    [InlineData("""{ "Id": 0, "ServerIdLength": 4, "NonceLength": 2 }""", "Mallard:Balancer:Configs:0:NonceLength: nonceLength is 2; it must be 4 to 18 octets.")]
    [InlineData("""{ "Id": 9, "ServerIdLength": 4, "NonceLength": 8 }""", "Mallard:Balancer:Configs:0:Id: configId is 9; it must be 0 to 6.")]
    [InlineData("""{ "Id": 0, "ServerIdLength": 0, "NonceLength": 8 }""", "Mallard:Balancer:Configs:0:ServerIdLength: serverIdLength is 0; it must be 1 to 15 octets.")]
    [InlineData("""{ "Id": 0, "NonceLength": 8 }""", "Mallard:Balancer:Configs:0:ServerIdLength: ServerIdLength is required (1 to 15).")]
    [InlineData("""{ "Id": 0, "ServerIdLength": 4, "NonceLength": 8, "Key": "zz" }""", "Mallard:Balancer:Configs:0:Key: \"zz\" is not an AES-128 key; write exactly 32 hex digits, or leave it out for plaintext connection IDs.")]
    [InlineData("""{ "Id": 0, "ServerIdLength": 4, "NonceLength": 8 }, { "Id": 0, "ServerIdLength": 5, "NonceLength": 8 }""", "Mallard:Balancer:Configs:1:Id: config ID 0 is already used by Mallard:Balancer:Configs:0; each config ID (0 to 6) can hold one configuration.")]
    public void NamesTheFieldAndTheAllowedRange(string entries, string message)
    {
        string path = WriteConfig(entries);

        var error = Assert.Throws<MallardConfigException>(() => QuicLbConfigLoader.LoadFile(path));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void RejectsUnknownFieldsSoTyposAreNotIgnored()
    {
        string path = WriteConfig("""{ "Id": 0, "ServerIdLength": 4, "NonceLen": 8 }""");

        var error = Assert.Throws<MallardConfigException>(() => QuicLbConfigLoader.LoadFile(path));

        Assert.StartsWith("Mallard:Balancer:Configs:0: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("NonceLen", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsAMissingFileBrokenJsonAndAnEmptyList()
    {
        Assert.EndsWith("the configuration file does not exist.", Assert.Throws<MallardConfigException>(() => QuicLbConfigLoader.LoadFile("/nonexistent/mallard.json")).Message, StringComparison.Ordinal);

        string broken = Path.GetTempFileName();
        File.WriteAllText(broken, "{ \"Mallard\": ");
        Assert.Contains("not valid JSON", Assert.Throws<MallardConfigException>(() => QuicLbConfigLoader.LoadFile(broken)).Message, StringComparison.Ordinal);

        Assert.StartsWith("Mallard:Balancer:Configs: no QUIC-LB configuration", Assert.Throws<MallardConfigException>(() => QuicLbConfigLoader.LoadFile(WriteConfig(string.Empty))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentStyleKeysOverrideTheFile()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Mallard:Balancer:Configs:0:Id"] = "3",
                ["Mallard:Balancer:Configs:0:ServerIdLength"] = "2",
                ["Mallard:Balancer:Configs:0:NonceLength"] = "6",
            })
            .Build();

        QuicLbConfig config = Assert.Single(QuicLbConfigLoader.Load(configuration));

        Assert.Equal(3, config.ConfigId);
        Assert.Equal(9, config.ConnectionIdLength);
    }

    private static string WriteConfig(string entries)
    {
        string path = Mallard.TestSupport.ScratchFolder.NewFile("quic-lb");
        File.WriteAllText(path, $$"""{ "Mallard": { "Balancer": { "Configs": [ {{entries}} ] } } }""");
        return path;
    }
}
