using System.Net;
using Mallard.Balancer.Configuration;
using Mallard.QuicLb;
using Microsoft.Extensions.Configuration;

namespace Mallard.Balancer.Tests.Configuration;

public class BalancerConfigLoaderTests
{
    private const string Valid = """
        "Listen": [ "127.0.0.1:4433" ],
        "Configs": [ { "Id": 0, "ServerIdLength": 4, "NonceLength": 8 } ],
        "Backends": [ { "Address": "127.0.0.1:4434", "ServerIds": { "0": "41414141" } }, { "Address": "127.0.0.1:4435", "ServerIds": { "0": "42424242" } } ]
        """;

    public static TheoryData<string> BalancerExamples()
    {
        var data = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(RepositoryPaths.Examples, "lb*.json"))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BalancerExamples))]
    public void EachBalancerExampleLoads(string fileName)
    {
        BalancerSettings settings = BalancerConfigLoader.Load(new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryPaths.Examples, fileName)).Build());

        Assert.NotEmpty(settings.Backends);
        Assert.NotEmpty(settings.Listeners);
    }

    [Fact]
    public void TheIssueExampleLoadsWithItsDefaults()
    {
        BalancerSettings settings = BalancerConfigLoader.Load(new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryPaths.Examples, "lb.json")).Build());

        Assert.Equal([IPEndPoint.Parse("127.0.0.1:4433"), IPEndPoint.Parse("[::1]:4433")], settings.Listeners.Select(l => l.Endpoint));
        Assert.All(settings.Listeners, l => Assert.Equal(ReturnPathMode.PerClientAddress, l.ReturnPath));
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9901"), settings.Admin);
        Assert.Equal(QuicLbAlgorithm.FourPass, settings.Configs[1].Algorithm);
        Assert.Equal(ServerId.Parse("abcdef012345"), settings.Backends[1].ServerIds[1]);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Fallback.FlowIdleTimeout);
        Assert.Equal(65_537, settings.Fallback.TableSize);
        Assert.True(settings.Health.Enabled);
        Assert.Equal(Environment.ProcessorCount, settings.Workers);
        Assert.Equal(RouteBy.ConnectionId, settings.RouteBy);
    }

    [Fact]
    public void TheBuiltInDefaultRunsOnLoopbackWithTwoBackends()
    {
        BalancerSettings settings = BalancerConfigLoader.Load(new ConfigurationBuilder().AddInMemoryCollection(BalancerConfigLoader.Defaults).Build());

        Assert.Equal(IPEndPoint.Parse("127.0.0.1:4433"), Assert.Single(settings.Listeners).Endpoint);
        Assert.Equal(["127.0.0.1:4434", "127.0.0.1:4435"], settings.Backends.Select(b => b.Name));
        Assert.Equal(ServerId.Parse("41414141"), settings.Backends[0].ServerIds[0]);
    }

    [Fact]
    public void EnvironmentVariablesOverrideTheFile()
    {
        string path = Write(Valid);
        Environment.SetEnvironmentVariable("Mallard__Balancer__Workers", "3");
        try
        {
            Assert.Equal(3, BalancerConfigLoader.LoadFile(path).Workers);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Mallard__Balancer__Workers", null);
        }
    }

    [Fact]
    public void ListenersCanBeObjectsWithTheirOwnReturnPath()
    {
        BalancerSettings settings = Load(Valid.Replace("""[ "127.0.0.1:4433" ]""", """[ "127.0.0.1:4433", { "Address": "[::1]:4433", "ReturnPath": "per-connection" } ]""", StringComparison.Ordinal));

        Assert.Equal(ReturnPathMode.PerClientAddress, settings.Listeners[0].ReturnPath);
        Assert.Equal(ReturnPathMode.PerConnection, settings.Listeners[1].ReturnPath);
    }

    [Theory]
    [InlineData("\"41414141\" }", "\"414141\" }", "Mallard:Balancer:Backends:0:ServerIds:0: \"414141\" is not a server ID of this config; write exactly 4 octets as 8 hex digits.")]
    [InlineData("\"42424242\" }", "\"41414141\" }", "Mallard:Balancer:Backends:1:ServerIds:0: server ID 41414141 under config 0 already belongs to Mallard:Balancer:Backends:0; server IDs must be unique within a config.")]
    [InlineData("{ \"0\": \"42424242\" }", "{ \"3\": \"42424242\" }", "Mallard:Balancer:Backends:1:ServerIds:3: config ID 3 is not among Mallard:Balancer:Configs.")]
    [InlineData("\"127.0.0.1:4435\"", "\"localhost:4435\"", "Mallard:Balancer:Backends:1:Address: \"localhost:4435\" is not an address; write IP:PORT, for example 127.0.0.1:4433 or [::1]:4433.")]
    [InlineData("\"127.0.0.1:4435\"", "\"127.0.0.1:4434\"", "Mallard:Balancer:Backends:1:Address: 127.0.0.1:4434 is already the address of Mallard:Balancer:Backends:0.")]
    [InlineData("\"127.0.0.1:4435\"", "\"127.0.0.1:0\"", "Mallard:Balancer:Backends:1:Address: \"127.0.0.1:0\" has port 0; a backend port is 1 to 65535.")]
    [InlineData("[ \"127.0.0.1:4433\" ]", "[ \"::1:4433\" ]", "Mallard:Balancer:Listen:0: \"::1:4433\" is not an address; write IP:PORT, for example 127.0.0.1:4433 or [::1]:4433.")]
    [InlineData("[ \"127.0.0.1:4433\" ]", "[ ]", "Mallard:Balancer:Listen: no listen address is given; add one, for example \"Listen\": [ \"127.0.0.1:4433\" ].")]
    [InlineData("\"NonceLength\": 8 }", "\"NonceLength\": 8, \"Key\": \"abc\" }", "Mallard:Balancer:Configs:0:Key: \"abc\" is not an AES-128 key; write exactly 32 hex digits, or leave it out for plaintext connection IDs.")]
    public void NamesTheFieldAndWhatIsAllowed(string find, string replace, string message)
    {
        var error = Assert.Throws<MallardConfigException>(() => Load(Valid.Replace(find, replace, StringComparison.Ordinal)));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("\"Weight\": 1001", "Mallard:Balancer:Backends:0:Weight: weight is 1001; it must be 0 (drain) to 1000.")]
    [InlineData("\"Colour\": 1", "Mallard:Balancer:Backends:0: ")]
    public void ChecksBackendFields(string field, string messageStart)
    {
        var error = Assert.Throws<MallardConfigException>(() => Load(Valid.Replace("\"Address\": \"127.0.0.1:4434\",", $"\"Address\": \"127.0.0.1:4434\", {field},", StringComparison.Ordinal)));

        Assert.StartsWith(messageStart, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"Fallback\": { \"TableSize\": 65536 }", "Mallard:Balancer:Fallback:TableSize: 65536 must be a prime from 251 to 1048573, for example 65537.")]
    [InlineData("\"Fallback\": { \"Algorithm\": \"ring\" }", "Mallard:Balancer:Fallback:Algorithm: \"ring\" is not a fallback algorithm; use maglev.")]
    [InlineData("\"Fallback\": { \"FlowIdleTimeout\": \"00:00:00\" }", "Mallard:Balancer:Fallback:FlowIdleTimeout: 00:00:00 must be longer than zero (write hh:mm:ss, for example 00:00:30).")]
    [InlineData("\"Proxy\": { \"MaxFlows\": 100, \"MaxFlowsPerSourceAddress\": 101 }", "Mallard:Balancer:Proxy:MaxFlowsPerSourceAddress: 101 is out of range; it must be 1 to 100.")]
    [InlineData("\"Proxy\": { \"MaxDatagramSize\": 1000 }", "Mallard:Balancer:Proxy:MaxDatagramSize: 1000 is out of range; it must be 1200 to 65527.")]
    [InlineData("\"Proxy\": { \"FlowJournal\": \"/no-such-folder/flows\" }", "Mallard:Balancer:Proxy:FlowJournal: the folder of \"/no-such-folder/flows\" does not exist; name a file in an existing folder the balancer may write, for example /var/lib/mallard/flows, or \"off\".")]
    [InlineData("\"Proxy\": { \"HandOverSocket\": \"/no-such-folder/handover\" }", "Mallard:Balancer:Proxy:HandOverSocket: the folder of \"/no-such-folder/handover\" does not exist; name a socket in an existing folder only the balancer's user may write, for example /run/mallard/handover, or \"off\".")]
    [InlineData("\"Proxy\": { \"HandOverSocket\": \"/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" }", "Mallard:Balancer:Proxy:HandOverSocket: \"/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" is longer than 99 octets, the most a Unix socket path may be here.")]
    [InlineData("\"Health\": { \"Interval\": \"00:00:01\", \"Timeout\": \"00:00:02\" }", "Mallard:Balancer:Health:Timeout: 00:00:02 is longer than the interval 00:00:01; a probe must finish before the next starts.")]
    [InlineData("\"ReturnPath\": \"sticky\"", "Mallard:Balancer:ReturnPath: \"sticky\" is not a return-path mode; use per-client-address (default) or per-connection.")]
    [InlineData("\"RouteBy\": \"dcid\"", "Mallard:Balancer:RouteBy: \"dcid\" is not a routing mode; use connection-id (default) or client-address.")]
    [InlineData("\"Workers\": 1000", "Mallard:Balancer:Workers: \"1000\" is not a worker count; use 1 to 256, or 0 for one per core.")]
    [InlineData("\"Listn\": [ ]", "Mallard:Balancer:Listn: unknown field; the balancer section takes Listen, Admin, Configs, Backends, RouteBy, ReturnPath, Fallback, Proxy, Health, Workers, Otlp.")]
    [InlineData("\"Otlp\": { \"Endpoint\": \"collector:4318\" }", "Mallard:Balancer:Otlp:Endpoint: \"collector:4318\" is not a collector address; write http://HOST:PORT or https://HOST:PORT, with a path if the collector has one but no query or fragment, for example http://127.0.0.1:4318.")]
    [InlineData("\"Otlp\": { \"Endpoint\": \"http://user:secret@127.0.0.1:4318\" }", "Mallard:Balancer:Otlp:Endpoint: the collector address carries a user name or password; write it without them.")]
    [InlineData("\"Otlp\": { \"Endpoint\": \"http://127.0.0.1:4318\", \"Protocol\": \"http/json\" }", "Mallard:Balancer:Otlp:Protocol: \"http/json\" is not an OTLP protocol; use http/protobuf (default) or grpc.")]
    [InlineData("\"Otlp\": { \"Endpoint\": \"http://127.0.0.1:4318\", \"Interval\": \"00:00:00.500\" }", "Mallard:Balancer:Otlp:Interval: 00:00:00.5000000 is out of range; it must be 00:00:01 to 01:00:00.")]
    public void ChecksEverySection(string section, string message)
    {
        var error = Assert.Throws<MallardConfigException>(() => Load(Valid + ", " + section));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void AdminCanBeSwitchedOff()
    {
        Assert.Null(Load(Valid + ", \"Admin\": \"off\"").Admin);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9901"), Load(Valid).Admin);
    }

    [Fact]
    public void AHandOverSocketPathThatHoldsAFileIsRefusedAndTheFileKept()
    {
        string file = Mallard.TestSupport.ScratchFolder.NewFile("not-a-socket", ".txt");
        File.WriteAllText(file, "precious");
        var error = Assert.Throws<MallardConfigException>(() => Load(Valid + $", \"Proxy\": {{ \"HandOverSocket\": \"{file}\" }}"));
        Assert.Equal($"Mallard:Balancer:Proxy:HandOverSocket: \"{file}\" is a file that is not a socket; name a path of its own (the balancer creates the socket there), for example /run/mallard/handover, or \"off\".", error.Message);
        Assert.Equal("precious", File.ReadAllText(file));

        string both = Mallard.TestSupport.ScratchFolder.NewFile("socket-and-journal", string.Empty);
        error = Assert.Throws<MallardConfigException>(() => Load(Valid + $", \"Proxy\": {{ \"HandOverSocket\": \"{both}\", \"FlowJournal\": \"{both}\" }}"));
        Assert.Contains("is the flow journal", error.Message, StringComparison.Ordinal);
    }

    private static BalancerSettings Load(string body) => BalancerConfigLoader.LoadFile(Write(body));

    private static string Write(string body)
    {
        string path = Mallard.TestSupport.ScratchFolder.NewFile("lb");
        File.WriteAllText(path, $$"""{ "Mallard": { "Balancer": { {{body}} } } }""");
        return path;
    }
}
