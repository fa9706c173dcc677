using System.Text;
using System.Text.Json;
using Mallard.Quic.Connections;
using Mallard.Quic.Tests.Connections;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Qlog;

/// <summary>The qlog of a real (virtual-network) connection checked against the JSON-SEQ and qlog 0.3 structure qvis expects.</summary>
public class QlogWriterTests
{
    private static readonly HashSet<string> KnownEvents =
    [
        "connectivity:connection_started", "connectivity:connection_state_updated", "connectivity:connection_closed",
        "transport:parameters_set", "transport:packet_sent", "transport:packet_received", "transport:packet_dropped",
        "transport:datagram_data_moved", "transport:datagram_dropped", "recovery:metrics_updated", "recovery:packet_lost",
        "connectivity:mtu_updated",
    ];

    [Fact]
    public void BothSidesWriteWellFormedJsonSeqWithPacketsFramesDatagramsAndTheClose()
    {
        var files = new Dictionary<string, MemoryStream>();
        Func<string, Stream> open = name => files[name] = new MemoryStream();
        TransportParameters parameters = VirtualNetwork.Parameters();
        parameters.MaxDatagramFrameSize = 65_535;
        using (var network = new VirtualNetwork(
            3,
            server: VirtualNetwork.ServerOptions() with { LocalParameters = parameters, OpenQlog = open },
            client: VirtualNetwork.DefaultClientOptions() with { LocalParameters = parameters, OpenQlog = open }) { LossRate = 0.05 })
        {
            ConnectionTests.Transfer(network, 50_000);
            Connection client = network.Client!;
            Assert.Equal(DatagramQueueResult.Queued, client.QueueDatagram("quack"u8, track: false, out _));
            network.Flush();
            Assert.True(network.RunUntil(() => network.ServerConnection!.DatagramsWaiting == 1, 5_000_000));
            client.Close(network.Now, 0);
            network.Flush();
            network.RunUntil(() => client.State == ConnectionState.Closed && network.ServerConnection!.State == ConnectionState.Closed, 10_000_000);
        }

        Assert.Equal(2, files.Count);
        Assert.Single(files.Keys, name => name.EndsWith("_client.sqlog", StringComparison.Ordinal));
        Assert.Single(files.Keys, name => name.EndsWith("_server.sqlog", StringComparison.Ordinal));
        foreach ((string name, MemoryStream file) in files)
        {
            List<JsonElement> records = ReadJsonSeq(file.ToArray());
            bool server = name.EndsWith("_server.sqlog", StringComparison.Ordinal);
            CheckHeader(records[0], server, odcid: name[..name.IndexOf('_', StringComparison.Ordinal)]);
            List<JsonElement> events = records[1..];
            CheckEvents(events);

            string[] names = [.. events.Select(e => e.GetProperty("name").GetString()!)];
            Assert.Contains("transport:packet_sent", names);
            Assert.Contains("transport:packet_received", names);
            Assert.Contains("recovery:metrics_updated", names);
            Assert.Equal(2, names.Count(n => n == "transport:parameters_set"));
            Assert.Equal("connectivity:connection_closed", names[^1]);
            Assert.Contains(events, e => State(e) == "handshake_complete");
            Assert.Contains(events, e => State(e) == "closed");

            // Path MTU discovery raised the datagram size from 1200 once a probe was acknowledged.
            JsonElement mtu = Assert.Single(events, e => e.GetProperty("name").GetString() == "connectivity:mtu_updated").GetProperty("data");
            Assert.Equal(1200, mtu.GetProperty("old").GetInt32());
            Assert.True(mtu.GetProperty("new").GetInt32() > 1200);

            // The quack is a DATAGRAM frame of 5 octets, sent by the client and received by the server.
            string direction = server ? "transport:packet_received" : "transport:packet_sent";
            Assert.Contains(events, e => e.GetProperty("name").GetString() == direction && Frames(e).Any(f => f.GetProperty("frame_type").GetString() == "datagram" && f.GetProperty("length").GetInt32() == 5));
        }
    }

    [Fact]
    public void AnAnsweredPathChallengeIsLoggedAsPathResponse()
    {
        var files = new Dictionary<string, MemoryStream>();
        Func<string, Stream> open = name => files[name] = new MemoryStream();
        using (var network = new VirtualNetwork(5, server: VirtualNetwork.ServerOptions() with { OpenQlog = open }, client: VirtualNetwork.DefaultClientOptions() with { OpenQlog = open }))
        {
            ConnectionTests.Transfer(network, 100_000, onStep: () =>
            {
                if (network.DatagramsToClient > 30 && network.CurrentClientAddress == VirtualNetwork.ClientAddress)
                {
                    network.CurrentClientAddress = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 50_001).Serialize(); // a NAT rebinding
                }
            });
            Assert.Equal(1, network.ServerConnection!.PathValidations);
            network.Client!.Close(network.Now, 0);
            network.Flush();
        }

        List<JsonElement> client = ReadJsonSeq(files.Single(f => f.Key.EndsWith("_client.sqlog", StringComparison.Ordinal)).Value.ToArray())[1..];
        Assert.Single(client, e => e.GetProperty("name").GetString() == "transport:packet_sent" && Frames(e).Any(f => f.GetProperty("frame_type").GetString() == "path_response"));
    }

    private static string? State(JsonElement e) =>
        e.GetProperty("name").GetString() == "connectivity:connection_state_updated" ? e.GetProperty("data").GetProperty("new").GetString() : null;

    private static IEnumerable<JsonElement> Frames(JsonElement e) => e.GetProperty("data").GetProperty("frames").EnumerateArray();

    /// <summary>RFC 7464: every record is RS, one JSON text, LF.</summary>
    private static List<JsonElement> ReadJsonSeq(byte[] content)
    {
        Assert.NotEmpty(content);
        Assert.Equal(0x1e, content[0]);
        var records = new List<JsonElement>();
        foreach (string record in Encoding.UTF8.GetString(content).Split('\u001e')[1..])
        {
            Assert.EndsWith("\n", record, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', record[..^1]);
            records.Add(JsonDocument.Parse(record).RootElement.Clone());
        }

        return records;
    }

    private static void CheckHeader(JsonElement header, bool server, string odcid)
    {
        Assert.Equal("0.3", header.GetProperty("qlog_version").GetString());
        Assert.Equal("JSON-SEQ", header.GetProperty("qlog_format").GetString());
        JsonElement trace = header.GetProperty("trace");
        Assert.Equal(server ? "server" : "client", trace.GetProperty("vantage_point").GetProperty("type").GetString());
        JsonElement common = trace.GetProperty("common_fields");
        Assert.Equal(odcid, common.GetProperty("ODCID").GetString());
        Assert.Equal("relative", common.GetProperty("time_format").GetString());
        Assert.True(common.GetProperty("reference_time").GetInt64() > 1_600_000_000_000);
    }

    private static void CheckEvents(List<JsonElement> events)
    {
        double previous = 0;
        foreach (JsonElement e in events)
        {
            double time = e.GetProperty("time").GetDouble();
            Assert.True(time >= previous, $"time goes back at {e}");
            previous = time;
            Assert.Contains(e.GetProperty("name").GetString()!, KnownEvents);
            JsonElement data = e.GetProperty("data");
            Assert.Equal(JsonValueKind.Object, data.ValueKind);
            if (e.GetProperty("name").GetString() is "transport:packet_sent" or "transport:packet_received")
            {
                JsonElement header = data.GetProperty("header");
                Assert.Contains(header.GetProperty("packet_type").GetString(), (string[])["initial", "handshake", "1RTT"]);
                Assert.True(header.GetProperty("packet_number").GetInt64() >= 0);
                Assert.True(data.GetProperty("raw").GetProperty("length").GetInt32() > 0);
                Assert.NotEmpty(Frames(e));
                Assert.All(Frames(e), f => Assert.False(string.IsNullOrEmpty(f.GetProperty("frame_type").GetString())));
            }
        }
    }
}
