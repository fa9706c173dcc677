using Mallard.Http3.Qpack;

namespace Mallard.Http3.Tests.Qpack;

public class QpackWriterTests
{
    [Fact]
    public async Task WhatTheWriterEncodesTheDecoderReadsBack()
    {
        List<KeyValuePair<string, string>> fields =
        [
            new(":method", "GET"),           // exact static match
            new(":path", "/files/report.pdf"), // static name, literal value
            new("x-mallard-test", "ünïcode-free but Latin-1 \u00ff"), // literal name and value
            new("accept", "*/*"),
            new("user-agent", "mallard/0.1"),
        ];
        byte[] section = QpackWriter.EncodeFieldSection(fields);
        Assert.Equal(0xD1, section[2]); // :method GET is static index 17, one byte

        Assert.Equal(fields, await new QpackDecoder(0, 0, 64 * 1024).DecodeAsync(section, 0, default));
    }

    [Theory]
    [InlineData(10UL, 5, "0a")]
    [InlineData(1337UL, 5, "1f9a0a")] // RFC 7541 C.1.2
    [InlineData(42UL, 8, "2a")]
    public void PrefixedIntegersMatchRfc7541(ulong value, int prefix, string hex)
    {
        var output = new List<byte>();
        QpackWriter.WriteInteger(output, 0x00, prefix, value);
        Assert.Equal(hex, Convert.ToHexStringLower([.. output]));
    }
}
