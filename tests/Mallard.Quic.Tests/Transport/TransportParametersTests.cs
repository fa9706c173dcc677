using System.Net;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Transport;

public class TransportParametersTests
{
    private static TransportParameters Server() => new()
    {
        OriginalDestinationConnectionId = Convert.FromHexString("8394c8f03e515708"),
        InitialSourceConnectionId = Convert.FromHexString("f067a5502a4262b5"),
        RetrySourceConnectionId = [1, 2, 3, 4],
        StatelessResetToken = [.. Enumerable.Range(0, 16).Select(i => (byte)i)],
        MaxIdleTimeout = 30_000,
        MaxUdpPayloadSize = 1472,
        InitialMaxData = 1 << 20,
        InitialMaxStreamDataBidiLocal = 1 << 18,
        InitialMaxStreamDataBidiRemote = 1 << 17,
        InitialMaxStreamDataUni = 1 << 16,
        InitialMaxStreamsBidi = 100,
        InitialMaxStreamsUni = 3,
        AckDelayExponent = 8,
        MaxAckDelay = 20,
        DisableActiveMigration = true,
        ActiveConnectionIdLimit = 8,
        MaxDatagramFrameSize = 65_535,
        PreferredAddress = new PreferredAddress(IPEndPoint.Parse("192.0.2.1:443"), IPEndPoint.Parse("[2001:db8::1]:443"), [9, 9, 9, 9], new byte[16]),
    };

    [Fact]
    public void EveryParameterRoundTrips()
    {
        TransportParameters sent = Server();

        TransportParameters? received = TransportParameters.TryDecode(sent.Encode(), fromServer: true, out string? error);

        Assert.Null(error);
        Assert.NotNull(received);
        Assert.Equal(sent.OriginalDestinationConnectionId, received.OriginalDestinationConnectionId);
        Assert.Equal(sent.InitialSourceConnectionId, received.InitialSourceConnectionId);
        Assert.Equal(sent.RetrySourceConnectionId, received.RetrySourceConnectionId);
        Assert.Equal(sent.StatelessResetToken, received.StatelessResetToken);
        Assert.Equal(30_000UL, received.MaxIdleTimeout);
        Assert.Equal(1472UL, received.MaxUdpPayloadSize);
        Assert.Equal(1UL << 20, received.InitialMaxData);
        Assert.Equal(1UL << 18, received.InitialMaxStreamDataBidiLocal);
        Assert.Equal(1UL << 17, received.InitialMaxStreamDataBidiRemote);
        Assert.Equal(1UL << 16, received.InitialMaxStreamDataUni);
        Assert.Equal(100UL, received.InitialMaxStreamsBidi);
        Assert.Equal(3UL, received.InitialMaxStreamsUni);
        Assert.Equal(8UL, received.AckDelayExponent);
        Assert.Equal(20UL, received.MaxAckDelay);
        Assert.True(received.DisableActiveMigration);
        Assert.Equal(8UL, received.ActiveConnectionIdLimit);
        Assert.Equal(65_535UL, received.MaxDatagramFrameSize);
        Assert.Equal(sent.PreferredAddress!.IPv4, received.PreferredAddress!.IPv4);
        Assert.Equal(sent.PreferredAddress.IPv6, received.PreferredAddress.IPv6);
        Assert.Equal(sent.PreferredAddress.ConnectionId, received.PreferredAddress.ConnectionId);
    }

    [Fact]
    public void DefaultsAreNotSentAndApplyWhenAbsent()
    {
        var minimal = new TransportParameters { InitialSourceConnectionId = [] };

        TransportParameters? received = TransportParameters.TryDecode(minimal.Encode(), fromServer: false, out _);

        Assert.Equal(2, minimal.Encode().Length);
        Assert.Equal(65_527UL, received!.MaxUdpPayloadSize);
        Assert.Equal(3UL, received.AckDelayExponent);
        Assert.Equal(25UL, received.MaxAckDelay);
        Assert.Equal(2UL, received.ActiveConnectionIdLimit);
        Assert.Null(received.MaxDatagramFrameSize);
    }

    [Theory]
    [InlineData("0f00" + "0008" + "0102030405060708", "a client must not send transport parameter 0x0")]
    [InlineData("0f00" + "0f00", "transport parameter 0xf appears twice")]
    [InlineData("0f00" + "0302" + "4000", "max_udp_payload_size is 0; it must be 1200 to 65527")]
    [InlineData("0f00" + "0a01" + "15", "ack_delay_exponent is 21; it must be 0 to 20")]
    [InlineData("0f00" + "0b04" + "80004000", "max_ack_delay is 16384; it must be 0 to 16383")]
    [InlineData("0f00" + "0e01" + "01", "active_connection_id_limit is 1; it must be 2")]
    [InlineData("0f00" + "0c01" + "00", "disable_active_migration must be empty")]
    [InlineData("0f00" + "0402" + "01", "transport parameter 0x4 claims 2 octets; 1 remain")]
    [InlineData("0f00" + "0402" + "0101", "initial_max_data is not one variable-length integer")]
    [InlineData("0104" + "80007530", "initial_source_connection_id is missing")]
    [InlineData("0f15" + "000102030405060708090a0b0c0d0e0f1011121314", "initial_source_connection_id is 21 octets")]
    [InlineData("0f00" + "0808" + "d000000000000001", "initial_max_streams_bidi is 1152921504606846977; it must be 0 to 1152921504606846976")]
    public void AClientsViolationsAreReportedWithTheirReason(string hex, string reasonStart)
    {
        TransportParameters? result = TransportParameters.TryDecode(Convert.FromHexString(hex), fromServer: false, out string? error);

        Assert.Null(result);
        Assert.StartsWith(reasonStart, error, StringComparison.Ordinal);
    }

    [Fact]
    public void AServerMustEchoTheOriginalDestinationConnectionId()
    {
        Assert.Null(TransportParameters.TryDecode(Convert.FromHexString("0f00"), fromServer: true, out string? error));
        Assert.StartsWith("original_destination_connection_id is missing", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReservedAndUnknownParametersAreIgnored()
    {
        // 31 * 2 + 27 = 89 (0x4059 as a 2-octet varint), a reserved ID with a junk value.
        TransportParameters? result = TransportParameters.TryDecode(Convert.FromHexString("4059" + "03" + "abcdef" + "0f00"), fromServer: false, out string? error);

        Assert.Null(error);
        Assert.NotNull(result);
    }

    [Fact]
    public void EveryTruncatedPrefixAndRandomInputIsAnErrorNotAnException()
    {
        // A prefix that ends between parameters can be a valid, shorter list; one that ends
        // inside a parameter cannot. Either way the answer is a value, never an exception.
        byte[] valid = Server().Encode();
        int decoded = 0;
        for (int length = 0; length < valid.Length; length++)
        {
            TransportParameters? prefix = TransportParameters.TryDecode(valid.AsSpan(0, length), fromServer: true, out string? error);
            Assert.True(prefix is not null ^ error is not null);
            decoded += prefix is null ? 0 : 1;
        }

        Assert.InRange(decoded, 1, 4);
        Assert.NotNull(TransportParameters.TryDecode(valid, fromServer: true, out _));

        var random = new Random(9000);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] junk = new byte[random.Next(0, 64)];
            random.NextBytes(junk);
            TransportParameters? result = TransportParameters.TryDecode(junk, fromServer: (i & 1) == 0, out string? error);
            Assert.True(result is not null ^ error is not null);
        }
    }
}
