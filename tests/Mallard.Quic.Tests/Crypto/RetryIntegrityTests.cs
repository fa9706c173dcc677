using Mallard.Quic.Crypto;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Tests.Crypto;

/// <summary>The Retry packets of RFC 9001 appendix A.4 and RFC 9369 appendix A.4.</summary>
public class RetryIntegrityTests
{
    private static readonly byte[] OriginalDcid = Convert.FromHexString("8394c8f03e515708");

    [Theory]
    [InlineData(QuicVersion.V1, 0)]
    [InlineData(QuicVersion.V2, 1)]
    public void TheRfcRetryPacketsCarryTheirTags(uint version, int occurrence)
    {
        byte[] retry = Rfc9001Vectors.BlockAfter("This shows a Retry packet", occurrence);
        byte[] tag = new byte[16];

        RetryIntegrity.ComputeTag(version, OriginalDcid, retry.AsSpan(0, retry.Length - 16), tag);

        Assert.Equal(Convert.ToHexStringLower(retry[^16..]), Convert.ToHexStringLower(tag));
        Assert.True(RetryIntegrity.IsValid(version, OriginalDcid, retry));
    }

    [Fact]
    public void AnyChangeInvalidatesTheTag()
    {
        byte[] retry = Rfc9001Vectors.BlockAfter("This shows a Retry packet");
        Assert.False(RetryIntegrity.IsValid(QuicVersion.V2, OriginalDcid, retry));
        Assert.False(RetryIntegrity.IsValid(QuicVersion.V1, Convert.FromHexString("8394c8f03e515709"), retry));
        for (int i = 0; i < retry.Length; i++)
        {
            byte[] changed = [.. retry];
            changed[i] ^= 0x01;
            Assert.False(RetryIntegrity.IsValid(QuicVersion.V1, OriginalDcid, changed));
        }

        for (int length = 0; length < retry.Length; length++)
        {
            Assert.False(RetryIntegrity.IsValid(QuicVersion.V1, OriginalDcid, retry.AsSpan(0, length)));
        }
    }
}
