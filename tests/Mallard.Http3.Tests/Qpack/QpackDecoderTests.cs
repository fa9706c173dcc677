using Mallard.Http3.Qpack;

namespace Mallard.Http3.Tests.Qpack;

public class QpackDecoderTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static QpackDecoder NewDecoder(int blocked = 16, int maxSection = 64 * 1024) => new(4096, blocked, maxSection);

    /// <summary>RFC 9204 Appendix B, in order: every instruction and representation the examples use, and the decoder's answers.</summary>
    [Fact]
    public async Task DecodesTheRfcExampleExchange()
    {
        QpackDecoder decoder = NewDecoder();

        // B.1: a literal with a static name reference.
        Assert.Equal([new(":path", "/index.html")], await decoder.DecodeAsync(Hex("0000 510b 2f69 6e64 6578 2e68 746d 6c"), 0, default));
        Assert.Empty(decoder.TakeDecoderInstructions());

        // B.2: capacity, two inserts with static name references, a section of post-base references.
        decoder.OnEncoderStream(Hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468"));
        Assert.Equal(Hex("02"), decoder.TakeDecoderInstructions()); // Insert Count Increment (2)
        Assert.Equal([new(":authority", "www.example.com"), new(":path", "/sample/path")], await decoder.DecodeAsync(Hex("0381 10 11"), 4, default));
        Assert.Equal(Hex("84"), decoder.TakeDecoderInstructions()); // Section Acknowledgment (stream 4)

        // B.3: an insert with a literal name.
        decoder.OnEncoderStream(Hex("4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565"));
        Assert.Equal(Hex("01"), decoder.TakeDecoderInstructions());

        // B.4: a duplicate, then a section of relative dynamic and static references.
        decoder.OnEncoderStream(Hex("02"));
        Assert.Equal([new(":authority", "www.example.com"), new(":path", "/"), new("custom-key", "custom-value")],
            await decoder.DecodeAsync(Hex("0500 80 c1 81"), 8, default));

        // B.5: an insert with a dynamic name reference evicts the oldest entry (capacity 220).
        decoder.OnEncoderStream(Hex("810d 6375 7374 6f6d 2d76 616c 7565 32"));
        Assert.Equal(5, decoder.InsertCount);
        var evicted = await Assert.ThrowsAsync<QpackException>(() => decoder.DecodeAsync(Hex("0600 84"), 12, default).AsTask()); // Base 5, index 4 → absolute 0
        Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, evicted.ErrorCode);
    }

    [Fact]
    public async Task AnInstructionSplitAcrossReadsIsAppliedWhenComplete()
    {
        QpackDecoder decoder = NewDecoder();
        byte[] instructions = Hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d");
        foreach (byte b in instructions)
        {
            decoder.OnEncoderStream([b]);
        }

        Assert.Equal(1, decoder.InsertCount);
        Assert.Equal([new(":authority", "www.example.com")], await decoder.DecodeAsync(Hex("0280 10"), 0, default));
    }

    [Fact]
    public async Task ASectionThatNeedsAnInsertNotYetArrivedWaitsForIt()
    {
        QpackDecoder decoder = NewDecoder();
        Task<List<KeyValuePair<string, string>>> blocked = decoder.DecodeAsync(Hex("0200 80"), 0, default).AsTask(); // RIC 1, Base 1, relative 0
        await Task.Delay(50);
        Assert.False(blocked.IsCompleted);

        decoder.OnEncoderStream(Hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d"));
        Assert.Equal([new(":authority", "www.example.com")], await blocked.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task MoreBlockedStreamsThanAdvertisedIsDecompressionFailed()
    {
        QpackDecoder decoder = NewDecoder(blocked: 1);
        _ = decoder.DecodeAsync(Hex("0200 80"), 0, default).AsTask();
        var failure = await Assert.ThrowsAsync<QpackException>(() => decoder.DecodeAsync(Hex("0200 80"), 4, default).AsTask());
        Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, failure.ErrorCode);
    }

    [Fact]
    public async Task ACancelledBlockedStreamNoLongerCountsAgainstTheLimit()
    {
        QpackDecoder decoder = NewDecoder(blocked: 1);
        using var cancel = new CancellationTokenSource();
        Task first = decoder.DecodeAsync(Hex("0200 80"), 0, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Task second = decoder.DecodeAsync(Hex("0200 80"), 4, default).AsTask();
        decoder.OnEncoderStream(Hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d"));
        await second.WaitAsync(TimeSpan.FromSeconds(5));
    }

    public static TheoryData<string, string, Http3ErrorCode> HostileEncoderStreams => new()
    {
        { "capacity above the advertised 4096", "3fe21f", Http3ErrorCode.QpackEncoderStreamError },
        { "an insert before any capacity", "c00f 7777 772e 6578 616d 706c 652e 636f 6d", Http3ErrorCode.QpackEncoderStreamError },
        { "a relative index to nothing", "3fbd01 8500", Http3ErrorCode.QpackEncoderStreamError },
        { "a duplicate of nothing", "3fbd01 00", Http3ErrorCode.QpackEncoderStreamError },
        { "a static index beyond the table", "3fbd01 ff2400", Http3ErrorCode.QpackDecompressionFailed },
        { "an integer beyond 62 bits", "3f ffffffffffffffffff7f", Http3ErrorCode.QpackEncoderStreamError },
        { "a malformed Huffman value", "3fbd01 c081ff", Http3ErrorCode.QpackEncoderStreamError },
    };

    [Theory]
    [MemberData(nameof(HostileEncoderStreams))]
    public void HostileEncoderInstructionsAreRefusedWithTheRfcError(string what, string hex, Http3ErrorCode expected)
    {
        QpackDecoder decoder = NewDecoder();
        var failure = Assert.Throws<QpackException>(() => decoder.OnEncoderStream(Hex(hex)));
        Assert.True(expected == failure.ErrorCode, what);
    }

    [Fact]
    public void AnEndlessPartialInstructionIsRefusedNotBuffered()
    {
        QpackDecoder decoder = NewDecoder();
        // Insert With Literal Name claiming a 1 MB name, fed in pieces: refused once it passes what the table could hold.
        var failure = Assert.Throws<QpackException>(() =>
        {
            decoder.OnEncoderStream(Hex("3fe11f")); // capacity 4096
            decoder.OnEncoderStream(Hex("5f c1c03f"));
            for (int i = 0; i < 100; i++)
            {
                decoder.OnEncoderStream(new byte[100]);
            }
        });
        Assert.Equal(Http3ErrorCode.QpackEncoderStreamError, failure.ErrorCode);
    }

    public static TheoryData<string, string> HostileSections => new()
    {
        { "a Required Insert Count beyond the table's range", "ff0100" },
        { "a reference to an entry not yet required", "0000 80" },
        { "a static index beyond the table", "0000 ff24" },
        { "a truncated literal", "0000 5105 2f69" },
        { "a negative Base", "0080" },
        { "a post-base reference beyond the Required Insert Count", "0000 10" },
    };

    [Theory]
    [MemberData(nameof(HostileSections))]
    public async Task HostileSectionsAreDecompressionFailed(string what, string hex)
    {
        QpackDecoder decoder = NewDecoder();
        var failure = await Assert.ThrowsAsync<QpackException>(() => decoder.DecodeAsync(Hex(hex), 0, default).AsTask());
        Assert.True(failure.ErrorCode == Http3ErrorCode.QpackDecompressionFailed, what);
    }

    [Fact]
    public async Task ASectionThatDecodesBeyondTheAdvertisedSizeIsRefused()
    {
        // A QPACK bomb: one 1000-byte entry, then a section of one-byte references to it.
        QpackDecoder decoder = NewDecoder(maxSection: 16 * 1024);
        var insert = new List<byte>();
        QpackWriter.WriteInteger(insert, 0x20, 5, 4096); // Set Dynamic Table Capacity
        insert.AddRange([0x43, (byte)'b', (byte)'i', (byte)'g']); // Insert With Literal Name "big"
        QpackWriter.WriteInteger(insert, 0x00, 7, 1000);
        decoder.OnEncoderStream([.. insert, .. Enumerable.Repeat((byte)'x', 1000)]);
        Assert.Equal(1, decoder.InsertCount);
        byte[] bomb = [0x02, 0x00, .. Enumerable.Repeat((byte)0x80, 100)];
        var failure = await Assert.ThrowsAsync<Http3Exception>(() => decoder.DecodeAsync(bomb, 0, default).AsTask());
        Assert.Equal(Http3ErrorCode.ExcessiveLoad, failure.ErrorCode);
    }
}
