using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

public class EncryptedExtensionsTests
{
    /// <summary>RFC 8448 section 3's EncryptedExtensions.</summary>
    [Fact]
    public void TheRfc8448MessageRoundTrips()
    {
        byte[] message = Convert.FromHexString("080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000");

        EncryptedExtensions parsed = EncryptedExtensions.TryParse(message, out _)!;

        Assert.Equal([(ushort)10, 28, 0], parsed.Extensions.Select(e => e.Type));
        Assert.Null(parsed.SelectedApplicationProtocol());
        Assert.Equal(message, parsed.Encode());
        for (int length = 0; length < message.Length; length++)
        {
            Assert.Null(EncryptedExtensions.TryParse(message.AsSpan(0, length), out TlsAlert alert));
            Assert.Equal(TlsAlert.DecodeError, alert);
        }
    }

    [Fact]
    public void TheSelectedProtocolIsRead()
    {
        var message = new EncryptedExtensions { Extensions = [new TlsExtension(TlsExtension.Alpn, [0x00, 0x07, 0x06, .. "siduck"u8])] };

        Assert.Equal("siduck", EncryptedExtensions.TryParse(message.Encode(), out _)!.SelectedApplicationProtocol());
    }
}
