using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using Mallard.QuicLb.Crypto;

namespace Mallard.QuicLb.Tests.Crypto;

public class Aes128Tests
{
    public static TheoryData<bool> Implementations => new() { true, false };

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Fips197AppendixC1Vector(bool allowHardware)
    {
        var aes = new Aes128(Hex.Bytes("000102030405060708090a0b0c0d0e0f"), allowHardware);
        var output = new byte[16];

        aes.Encrypt(Hex.Bytes("00112233445566778899aabbccddeeff"), output);
        Assert.Equal("69c4e0d86a7b0430d8cdb78070b4c55a", Hex.Of(output));

        aes.Decrypt(output, output);
        Assert.Equal("00112233445566778899aabbccddeeff", Hex.Of(output));
    }

    [Fact]
    public void PortableIsUsedWhenHardwareIsRefused()
    {
        var aes = new Aes128(new byte[16], allowHardware: false);
        Assert.Equal(AesImplementation.Portable, aes.Implementation);
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void MatchesTheSystemAesOnRandomKeysAndBlocks(bool allowHardware)
    {
        var random = new Random(9000);
        var key = new byte[16];
        var block = new byte[16];
        var ours = new byte[16];
        for (int i = 0; i < 200; i++)
        {
            random.NextBytes(key);
            random.NextBytes(block);
            using var reference = Aes.Create();
            reference.Key = key;
            byte[] expected = reference.EncryptEcb(block, PaddingMode.None);

            var aes = new Aes128(key, allowHardware);
            aes.Encrypt(block, ours);
            Assert.Equal(expected, ours);

            Assert.Equal(Vector128.Create(block), aes.Decrypt(Vector128.Create(expected)));
        }
    }
}
