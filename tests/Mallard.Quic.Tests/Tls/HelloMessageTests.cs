using Mallard.Quic.Crypto;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

/// <summary>The ClientHello and ServerHello of RFC 8448 section 3.</summary>
public class HelloMessageTests
{
    internal static readonly byte[] Rfc8448ClientHello = Convert.FromHexString(
        "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001");

    internal static readonly byte[] Rfc8448ServerHello = Convert.FromHexString(
        "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304");

    [Fact]
    public void TheRfc8448ClientHelloParsesAndReencodesByteForByte()
    {
        ClientHello hello = ClientHello.TryParse(Rfc8448ClientHello, out _)!;

        Assert.Equal([0x1301, 0x1303, 0x1302], hello.CipherSuites);
        Assert.Equal("server", hello.ServerName());
        Assert.Equal([(ushort)0x0304], hello.SupportedVersions()!);
        Assert.Equal([(ushort)0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104], hello.SupportedGroups()!);
        (ushort group, byte[] key) = Assert.Single(hello.KeyShares()!);
        Assert.Equal(0x001d, group);
        Assert.Equal("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c", Convert.ToHexStringLower(key));
        Assert.Contains((ushort)0x0804, hello.SignatureAlgorithms()!);
        Assert.Null(hello.ApplicationProtocols());
        Assert.Equal(Rfc8448ClientHello, hello.Encode());
    }

    [Fact]
    public void TheRfc8448ServerHelloParsesAndTheTranscriptHashMatches()
    {
        ServerHello hello = ServerHello.TryParse(Rfc8448ServerHello, out _)!;

        Assert.Equal(0x1301, hello.CipherSuite);
        Assert.Equal((ushort)0x0304, hello.SelectedVersion());
        Assert.False(hello.IsHelloRetryRequest);
        Assert.Equal("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f", Convert.ToHexStringLower(hello.KeyShare()!.Value.Key));
        Assert.Equal(Rfc8448ServerHello, hello.Encode());
        Assert.Equal("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8",
            Convert.ToHexStringLower(new TlsKeySchedule(CipherSuite.Aes128GcmSha256).Hash([.. Rfc8448ClientHello, .. Rfc8448ServerHello])));
    }

    [Fact]
    public void AHelloRetryRequestCarriesOnlyTheSelectedGroup()
    {
        var retry = new ServerHello
        {
            Random = ServerHello.HelloRetryRequestRandom.ToArray(),
            CipherSuite = 0x1301,
            Extensions = [new TlsExtension(TlsExtension.SupportedVersions, [0x03, 0x04]), new TlsExtension(TlsExtension.KeyShare, [0x00, 0x17])],
        };

        ServerHello parsed = ServerHello.TryParse(retry.Encode(), out _)!;

        Assert.True(parsed.IsHelloRetryRequest);
        Assert.Equal((ushort)0x0017, parsed.KeyShare()!.Value.Group);
        Assert.Empty(parsed.KeyShare()!.Value.Key);
        Assert.Equal("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", Convert.ToHexStringLower(ServerHello.HelloRetryRequestRandom));
    }

    [Fact]
    public void AlpnAndTransportParametersAreRead()
    {
        ClientHello original = ClientHello.TryParse(Rfc8448ClientHello, out _)!;
        var quic = new ClientHello
        {
            Random = original.Random,
            CipherSuites = original.CipherSuites,
            Extensions = [.. original.Extensions, new TlsExtension(TlsExtension.Alpn, [0x00, 0x0d, 0x06, .. "siduck"u8, 0x05, .. "hq-29"u8]), new TlsExtension(TlsExtension.QuicTransportParameters, [0x0f, 0x00])],
        };

        ClientHello parsed = ClientHello.TryParse(quic.Encode(), out _)!;

        Assert.Equal(["siduck", "hq-29"], parsed.ApplicationProtocols()!);
        Assert.Equal(new byte[] { 0x0f, 0x00 }, parsed.Find(TlsExtension.QuicTransportParameters)!.Data);
    }

    [Fact]
    public void MalformedHellosGiveTheRightAlertAndNeverThrow()
    {
        for (int length = 0; length < Rfc8448ClientHello.Length; length++)
        {
            Assert.Null(ClientHello.TryParse(Rfc8448ClientHello.AsSpan(0, length), out TlsAlert alert));
            Assert.Equal(TlsAlert.DecodeError, alert);
        }

        for (int length = 0; length < Rfc8448ServerHello.Length; length++)
        {
            Assert.Null(ServerHello.TryParse(Rfc8448ServerHello.AsSpan(0, length), out _));
        }

        ClientHello original = ClientHello.TryParse(Rfc8448ClientHello, out _)!;
        var duplicated = new ClientHello { Random = original.Random, CipherSuites = original.CipherSuites, Extensions = [.. original.Extensions, original.Extensions[0]] };
        Assert.Null(ClientHello.TryParse(duplicated.Encode(), out TlsAlert duplicate));
        Assert.Equal(TlsAlert.IllegalParameter, duplicate);

        var random = new Random(8448);
        for (int i = 0; i < 50_000; i++)
        {
            byte[] junk = new byte[random.Next(0, 80)];
            random.NextBytes(junk);
            if (junk.Length > 0)
            {
                junk[0] = (byte)(i % 2 == 0 ? 1 : 2);
            }

            _ = ClientHello.TryParse(junk, out _);
            _ = ServerHello.TryParse(junk, out _);
        }
    }

    [Fact]
    public void FramingWaitsForWholeMessagesAndRefusesHugeOnes()
    {
        byte[] both = [.. Rfc8448ClientHello, .. Rfc8448ServerHello];

        Assert.True(HandshakeFraming.TryRead(both, out HandshakeType first, out ReadOnlySpan<byte> message, out int consumed, out _));
        Assert.Equal((HandshakeType.ClientHello, Rfc8448ClientHello.Length), (first, consumed));
        Assert.Equal(Rfc8448ClientHello, message.ToArray());
        Assert.True(HandshakeFraming.TryRead(both.AsSpan(consumed), out HandshakeType second, out _, out _, out _));
        Assert.Equal(HandshakeType.ServerHello, second);
        Assert.False(HandshakeFraming.TryRead(both.AsSpan(0, 100), out _, out _, out _, out bool tooLarge));
        Assert.False(tooLarge);
        Assert.False(HandshakeFraming.TryRead([0x0b, 0x10, 0x00, 0x00], out _, out _, out _, out tooLarge));
        Assert.True(tooLarge);
    }
}
