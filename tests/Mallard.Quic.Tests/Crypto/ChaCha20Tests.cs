using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tests.Crypto;

public class ChaCha20Tests
{
    /// <summary>RFC 8439 section 2.3.2.</summary>
    [Fact]
    public void TheBlockFunctionMatchesRfc8439()
    {
        byte[] key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        byte[] nonce = Convert.FromHexString("000000090000004a00000000");
        byte[] block = new byte[64];

        ChaCha20.Block(key, 1, nonce, block);

        Assert.Equal(
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
            + "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
            Convert.ToHexStringLower(block));
    }

    /// <summary>RFC 9001 appendix A.5 (vectors in Vectors/rfc9001-rfc9369.txt).</summary>
    [Fact]
    public void TheQuicHeaderProtectionMaskMatchesRfc9001()
    {
        byte[] hp = Convert.FromHexString("25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4");
        byte[] sample = Convert.FromHexString("5e5cd55c41f69080575d7999c25a5bfb");
        byte[] mask = new byte[5];

        ChaCha20.HeaderProtectionMask(hp, sample, mask);

        Assert.Equal("aefefe7d03", Convert.ToHexStringLower(mask));
    }

    [Fact]
    public void WrongLengthsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChaCha20.Block(new byte[31], 0, new byte[12], new byte[64]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChaCha20.Block(new byte[32], 0, new byte[8], new byte[64]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChaCha20.HeaderProtectionMask(new byte[32], new byte[15], new byte[5]));
    }
}
