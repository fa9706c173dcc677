using System.Net;
using Mallard.Balancer.Configuration;
using Microsoft.Extensions.Configuration;

namespace Mallard.Steering.Tests;

/// <summary>The steering configuration: what loads, and that every mistake names its field.</summary>
public sealed class SteeringConfigLoaderTests
{
    private const string Configs = "\"Balancer\": { \"Configs\": [ { \"Id\": 0, \"ServerIdLength\": 4, \"NonceLength\": 8 } ] }";

    [Fact]
    public void AWholeConfigurationLoads()
    {
        SteeringSettings settings = Load("""
            "Interface": "eth0", "ServicePort": 4433, "Mode": "generic", "ServerIds": { "0": "41414141" },
            "Peers": [ { "Mac": "02:00:00:00:00:0B", "ServerIds": { "0": "42424242" } } ]
            """);
        Assert.Equal("eth0", settings.Interface);
        Assert.Equal(4433, settings.ServicePort);
        Assert.Equal(SteeringMode.Generic, settings.Mode);
        Assert.Equal(Convert.FromHexString("41414141"), settings.ServerIds[0]);
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0, 0x0b }, settings.Peers[0].Mac);
        Assert.Equal(Convert.FromHexString("42424242"), settings.Peers[0].ServerIds[0]);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9902), settings.Admin); // the default: loopback, beside mallard lb's 9901
    }

    [Fact]
    public void APeerOnAnotherSegmentHasAnAddressAndTheServerAnEncapsulation()
    {
        SteeringSettings settings = Load("""
            "Interface": "eth0", "ServerIds": { "0": "41414141" },
            "Peers": [ { "Mac": "02:00:00:00:00:0b", "Address": "10.0.2.12", "ServerIds": { "0": "42424242" } } ],
            "Encapsulation": { "Address": "10.0.1.11" }
            """);
        Assert.Equal(System.Net.IPAddress.Parse("10.0.2.12"), settings.Peers[0].Address);
        Assert.Equal(new SteeringEncapsulation(System.Net.IPAddress.Parse("10.0.1.11"), SteeringEncapsulation.DefaultVni, 4789), settings.Encapsulation);
    }

    [Fact]
    public void UserSpaceModeNeedsNoXdp() =>
        Assert.Equal(SteeringMode.UserSpace, Load("\"Interface\": \"eth0\", \"Mode\": \"user\", \"ServerIds\": { \"0\": \"41414141\" }").Mode);

    [Theory]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Admin\": \"localhost\"", "Mallard:Steering:Admin: \"localhost\" is not an address; write IP:PORT, for example 127.0.0.1:4433 or [::1]:4433.")]
    [InlineData("\"ServerIds\": { \"0\": \"41414141\" }", "Mallard:Steering:Interface: is required: the interface the 4-tuple tier's packets arrive on, for example eth0.")]
    [InlineData("\"Interface\": \"eth0\", \"ServicePort\": 0, \"ServerIds\": { \"0\": \"41414141\" }", "Mallard:Steering:ServicePort: \"0\" is not a port; it must be 1 to 65535.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Peers\": [ { \"Mac\": \"02:00:00:00:00:0b\", \"Address\": \"10.0.2.12\", \"ServerIds\": { \"0\": \"42424242\" } } ]", "Mallard:Steering:Encapsulation:Address: is required when a peer has an Address: this server's IPv4 address towards the other segments, the source of VXLAN-wrapped frames.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Peers\": [ { \"Mac\": \"02:00:00:00:00:0b\", \"Address\": \"2001:db8::2\", \"ServerIds\": { \"0\": \"42424242\" } } ]", "Mallard:Steering:Peers:0:Address: \"2001:db8::2\" is not an IPv4 address; a peer on another segment is reached by VXLAN over IPv4 at its underlay address.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Encapsulation\": { \"Address\": \"10.0.1.11\", \"Vni\": \"16777216\" }", "Mallard:Steering:Encapsulation:Vni: \"16777216\" is not a VXLAN network identifier; it must be 1 to 16777215.")]
    [InlineData("\"Interface\": \"eth0\", \"Mode\": \"offload\", \"ServerIds\": { \"0\": \"41414141\" }", "Mallard:Steering:Mode: \"offload\" is not a steering mode; use auto (default), native, generic or user.")]
    [InlineData("\"Interface\": \"eth0\"", "Mallard:Steering:ServerIds: is required: this server's ID under each configuration, for example { \"0\": \"41414141\" }.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"3\": \"41414141\" }", "Mallard:Steering:ServerIds:3: \"3\" is not a configured QUIC-LB config ID (0).")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"4141\" }", "Mallard:Steering:ServerIds:0: is 2 octets; config 0 has 4-octet server IDs.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Peers\": [ { \"Mac\": \"02:00:00:00:00\" } ]", "Mallard:Steering:Peers:0:Mac: \"02:00:00:00:00\" is not a MAC address; write six hex pairs, for example 02:00:00:00:00:0a.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Peers\": [ { \"Mac\": \"02:00:00:00:00:0b\", \"ServerIds\": { \"0\": \"41414141\" } } ]", "Mallard:Steering:Peers:0:ServerIds:0: 41414141 is already this server's or another peer's ID under config 0; each server ID names one server.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Peers\": [ { \"Mac\": \"ff:ff:ff:ff:ff:ff\" } ]", "Mallard:Steering:Peers:0:Mac: \"ff:ff:ff:ff:ff:ff\" is not one server's address: a peer's MAC is unicast, not all zeros, and given once.")]
    [InlineData("\"Interface\": \"eth0\", \"ServerIds\": { \"0\": \"41414141\" }, \"Peers\": [ { \"Mac\": \"02:00:00:00:00:0b\" }, { \"Mac\": \"02:00:00:00:00:0B\" } ]", "Mallard:Steering:Peers:1:Mac: \"02:00:00:00:00:0B\" is not one server's address: a peer's MAC is unicast, not all zeros, and given once.")]
    public void EveryMistakeNamesItsField(string steering, string message)
    {
        var error = Assert.Throws<MallardConfigException>(() => Load(steering));
        Assert.Equal(message, error.Message);
    }

    private static SteeringSettings Load(string steering)
    {
        string json = $$"""{ "Mallard": { {{Configs}}, "Steering": { {{steering}} } } }""";
        return SteeringConfigLoader.Load(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build());
    }
}
