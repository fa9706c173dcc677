using System.Security.Cryptography;
using Mallard.Quic.Crypto;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Tests.Crypto;

/// <summary>RFC 9001 appendix A and RFC 9369 appendix A, from Vectors/rfc9001-rfc9369.txt.</summary>
public class PacketProtectionTests
{
    private static readonly byte[] ClientDcid = Convert.FromHexString("8394c8f03e515708");

    [Fact]
    public void InitialKeysMatchRfc9001AppendixA1()
    {
        (byte[] client, byte[] server) = InitialSecrets.Derive(QuicVersion.V1, ClientDcid);
        PacketKeys clientKeys = PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, client);
        PacketKeys serverKeys = PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, server);

        Assert.Equal("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44", Hex(InitialSecrets.Initial(QuicVersion.V1, ClientDcid)));
        Assert.Equal("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea", Hex(client));
        Assert.Equal("1f369613dd76d5467730efcbe3b1a22d", Hex(clientKeys.Key));
        Assert.Equal("fa044b2f42a3fd3b46fb255c", Hex(clientKeys.Iv));
        Assert.Equal("9f50449e04a0e810283a1e9933adedd2", Hex(clientKeys.HeaderKey));
        Assert.Equal("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b", Hex(server));
        Assert.Equal("cf3a5331653c364c88f0f379b6067e37", Hex(serverKeys.Key));
        Assert.Equal("0ac1493ca1905853b0bba03e", Hex(serverKeys.Iv));
        Assert.Equal("c206b8d9b9f0f37644430b490eeaa314", Hex(serverKeys.HeaderKey));
        Assert.Equal("00200f746c73313320636c69656e7420696e00", Hex(HkdfLabel.Info("client in", default, 32)));
    }

    [Theory]
    [InlineData(QuicVersion.V1, 0)]
    [InlineData(QuicVersion.V2, 1)]
    public void TheClientInitialProtectsToTheRfcPacketAndBack(uint version, int occurrence)
    {
        byte[] header = Rfc9001Vectors.BlockAfter("The unprotected header indicates", occurrence);
        byte[] frames = Rfc9001Vectors.BlockAfter("The client sends an Initial packet", occurrence);
        byte[] expected = Rfc9001Vectors.BlockAfter("The resulting protected packet is", occurrence);
        byte[] packet = new byte[header.Length + 1162 + PacketProtection.TagLength];
        header.CopyTo(packet, 0);
        frames.CopyTo(packet, header.Length);

        using var sender = new PacketProtection(PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, InitialSecrets.Derive(version, ClientDcid).Client, version));
        sender.Protect(packet, header.Length - 4, 4, 2, 1162);

        Assert.Equal(Hex(expected), Hex(packet));

        using var receiver = new PacketProtection(PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, InitialSecrets.Derive(version, ClientDcid).Client, version));
        Assert.True(receiver.TryUnprotect(packet, header.Length - 4, -1, out ulong number, out Range payload));
        Assert.Equal(2UL, number);
        Assert.Equal(Hex(header), Hex(packet.AsSpan(0, header.Length).ToArray()));
        Assert.Equal(Hex(frames), Hex(packet[payload][..frames.Length]));
    }

    [Theory]
    [InlineData(QuicVersion.V1, 0)]
    [InlineData(QuicVersion.V2, 1)]
    public void TheServerInitialUnprotectsToTheRfcPayload(uint version, int occurrence)
    {
        byte[] payload = Rfc9001Vectors.BlockAfter("The server sends the following payload", occurrence);
        byte[] header = Rfc9001Vectors.BlockAfter("The header from the server includes", occurrence);
        byte[] packet = Rfc9001Vectors.BlockAfter("The final protected packet is then", occurrence);

        using var receiver = new PacketProtection(PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, InitialSecrets.Derive(version, ClientDcid).Server, version));
        Assert.True(receiver.TryUnprotect(packet, header.Length - 2, -1, out ulong number, out Range range));

        Assert.Equal(1UL, number);
        Assert.Equal(Hex(header), Hex(packet[..header.Length]));
        Assert.Equal(Hex(payload), Hex(packet[range]));
    }

    [Theory]
    [InlineData(QuicVersion.V1, "4cfe4189655e5cd55c41f69080575d7999c25a5bfb")]
    [InlineData(QuicVersion.V2, "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba")]
    public void TheChaCha20ShortHeaderPacketMatchesRfc9001AppendixA5(uint version, string expected)
    {
        byte[] secret = Convert.FromHexString("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
        byte[] packet = Convert.FromHexString("4200bff4" + "01" + new string('0', 32));

        using var sender = new PacketProtection(PacketKeys.FromSecret(CipherSuite.ChaCha20Poly1305Sha256, secret, version));
        sender.Protect(packet, 1, 3, 654360564, 1);

        Assert.Equal(expected, Hex(packet));
        using var receiver = new PacketProtection(PacketKeys.FromSecret(CipherSuite.ChaCha20Poly1305Sha256, secret, version));
        Assert.True(receiver.TryUnprotect(packet, 1, 654360563, out ulong number, out Range payload));
        Assert.Equal(654360564UL, number);
        Assert.Equal("01", Hex(packet[payload]));
    }

    [Fact]
    public void ATamperedOrTruncatedPacketIsRefused()
    {
        byte[] packet = Rfc9001Vectors.BlockAfter("The final protected packet is then");
        using var receiver = new PacketProtection(PacketKeys.FromSecret(CipherSuite.Aes128GcmSha256, InitialSecrets.Derive(QuicVersion.V1, ClientDcid).Server));

        byte[] tampered = [.. packet];
        tampered[^1] ^= 1;
        Assert.False(receiver.TryUnprotect(tampered, 18, -1, out _, out _));
        for (int length = 0; length < 18 + 20; length++)
        {
            Assert.False(receiver.TryUnprotect(packet.AsSpan(0, length).ToArray(), 18, -1, out _, out _));
        }
    }

    /// <summary>RFC 9000 appendix A.3's example, and the edges of the window.</summary>
    [Theory]
    [InlineData(0xa82f30eaL, 0x9b32UL, 16, 0xa82f9b32UL)]
    [InlineData(-1L, 0UL, 8, 0UL)]
    [InlineData(255L, 0UL, 8, 256UL)]
    [InlineData(300L, 0xffUL, 8, 255UL)]
    public void PacketNumbersDecodeNearTheLargestSeen(long largest, ulong truncated, int bits, ulong expected)
    {
        Assert.Equal(expected, PacketProtection.DecodePacketNumber(largest, truncated, bits));
    }

    [Fact]
    public void Aes256AndChaChaKeysHaveTheirLengths()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(48);
        Assert.Equal(32, PacketKeys.FromSecret(CipherSuite.Aes256GcmSha384, secret).Key.Length);
        Assert.Equal(32, PacketKeys.FromSecret(CipherSuite.ChaCha20Poly1305Sha256, secret.AsSpan(0, 32)).HeaderKey.Length);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
