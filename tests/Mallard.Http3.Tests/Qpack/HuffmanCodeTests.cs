using System.Text;
using Mallard.Http3.Qpack;

namespace Mallard.Http3.Tests.Qpack;

public class HuffmanCodeTests
{
    // RFC 7541 Appendix C.4.1 and C.4.3: strings and their Huffman codes.
    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    public void EncodesAndDecodesTheRfcExamples(string text, string hex)
    {
        byte[] raw = Encoding.ASCII.GetBytes(text);
        byte[] coded = new byte[HuffmanCode.EncodedLength(raw)];
        HuffmanCode.Encode(raw, coded);
        Assert.Equal(hex, Convert.ToHexStringLower(coded));

        byte[] decoded = new byte[64];
        Assert.True(HuffmanCode.TryDecode(Convert.FromHexString(hex), decoded, out int written));
        Assert.Equal(text, Encoding.ASCII.GetString(decoded, 0, written));
    }

    [Fact]
    public void EveryByteValueSurvivesARoundTrip()
    {
        byte[] all = [.. Enumerable.Range(0, 256).Select(i => (byte)i), .. Enumerable.Range(0, 256).Select(i => (byte)(255 - i))];
        byte[] coded = new byte[HuffmanCode.EncodedLength(all)];
        HuffmanCode.Encode(all, coded);
        byte[] decoded = new byte[all.Length];
        Assert.True(HuffmanCode.TryDecode(coded, decoded, out int written));
        Assert.Equal(all, decoded[..written]);
    }

    [Theory]
    [InlineData("f1e3c2e5f23a6ba0ab90f4ff" + "ff", "padding longer than 7 bits")]
    [InlineData("f1e3c2e5f23a6ba0ab90f4fe", "padding that is not all ones")]
    [InlineData("fffffffc", "the EOS symbol inside the string")]
    [InlineData("00", "a code cut off: '0' is 00000, the rest 000 is not padding")]
    public void RefusesWhatSection52Forbids(string hex, string why)
    {
        Assert.False(HuffmanCode.TryDecode(Convert.FromHexString(hex), new byte[64], out _), why);
    }

    [Fact]
    public void RefusesOutputLargerThanTheDestination()
    {
        byte[] raw = Encoding.ASCII.GetBytes("www.example.com");
        byte[] coded = new byte[HuffmanCode.EncodedLength(raw)];
        HuffmanCode.Encode(raw, coded);
        Assert.False(HuffmanCode.TryDecode(coded, new byte[raw.Length - 1], out _));
    }
}
