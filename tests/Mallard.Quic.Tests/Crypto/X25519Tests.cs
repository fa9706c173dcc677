using Mallard.Quic.Crypto;

namespace Mallard.Quic.Tests.Crypto;

public class X25519Tests
{
    /// <summary>RFC 7748 section 5.2.</summary>
    [Theory]
    [InlineData("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")]
    [InlineData("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    public void ScalarMultiplicationMatchesRfc7748(string scalar, string u, string expected)
    {
        byte[] result = new byte[32];

        X25519.ScalarMultiply(Convert.FromHexString(scalar), Convert.FromHexString(u), result);

        Assert.Equal(expected, Convert.ToHexStringLower(result));
    }

    /// <summary>RFC 7748 section 5.2, the iterated test: k = X25519(k, u), u = old k, from k = u = 9.</summary>
    [Fact]
    public void TheIteratedTestMatchesAfterOneAndAThousandRounds()
    {
        byte[] k = [.. X25519.BasePoint];
        byte[] u = [.. X25519.BasePoint];
        byte[] next = new byte[32];
        for (int i = 1; i <= 1000; i++)
        {
            X25519.ScalarMultiply(k, u, next);
            u = k;
            k = [.. next];
            if (i == 1)
            {
                Assert.Equal("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", Convert.ToHexStringLower(k));
            }
        }

        Assert.Equal("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", Convert.ToHexStringLower(k));
    }

    /// <summary>RFC 7748 section 6.1: Alice and Bob.</summary>
    [Fact]
    public void DiffieHellmanMatchesRfc7748()
    {
        byte[] alice = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] bob = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        byte[] alicePublic = new byte[32];
        byte[] bobPublic = new byte[32];
        byte[] aliceShared = new byte[32];
        byte[] bobShared = new byte[32];

        X25519.PublicKey(alice, alicePublic);
        X25519.PublicKey(bob, bobPublic);

        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(alicePublic));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(bobPublic));
        Assert.True(X25519.SharedSecret(alice, bobPublic, aliceShared));
        Assert.True(X25519.SharedSecret(bob, alicePublic, bobShared));
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", Convert.ToHexStringLower(aliceShared));
        Assert.Equal(aliceShared, bobShared);
    }

    /// <summary>A low-order peer point (here 0 and 1) yields an all-zero secret, which must be refused.</summary>
    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    public void LowOrderPointsAreRefused(string peer)
    {
        byte[] secret = new byte[32];

        Assert.False(X25519.SharedSecret(Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), Convert.FromHexString(peer), secret));
    }

    /// <summary>Values at and above p = 2^255 - 19 encode reduced (RFC 7748: implementations must accept non-canonical u).</summary>
    [Fact]
    public void NonCanonicalCoordinatesAreReduced()
    {
        byte[] pPlusNine = Convert.FromHexString("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        byte[] scalar = Convert.FromHexString("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
        byte[] fromNonCanonical = new byte[32];
        byte[] fromNine = new byte[32];

        X25519.ScalarMultiply(scalar, pPlusNine, fromNonCanonical);
        X25519.ScalarMultiply(scalar, X25519.BasePoint, fromNine);

        Assert.Equal(fromNine, fromNonCanonical);
    }
}
