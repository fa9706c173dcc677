using System.Buffers;

namespace Mallard.Quic.Streams;

/// <summary>
/// The 4 KiB pages that stream and CRYPTO data live in, on both the sending side
/// (<see cref="SendBuffer"/>) and the receiving side (<see cref="ReassemblyBuffer"/>), from pools
/// of their own. A page is usually rented on one thread and returned on another (the application
/// writes, the receive path releases what the peer acknowledged; the receive path fills, the
/// application reads): the shared <see cref="ArrayPool{T}"/> keeps only a few arrays per thread and
/// core, and a bulk transfer missed it for about every second page. These keep up to
/// <see cref="PooledPages"/> pages (about 18 MB with their bitmaps, the most a few bulk transfers hold at once), whichever thread returns them.
/// </summary>
internal static class StreamPages
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    public const int PageMask = PageSize - 1;

    /// <summary>Words of a page's arrival bitmap (one bit per octet).</summary>
    public const int WordsPerPage = PageSize / 64;

    /// <summary>Pages kept for reuse, process-wide.</summary>
    public const int PooledPages = 4_096;

    /// <summary>The pages' data.</summary>
    public static readonly ArrayPool<byte> Data = ArrayPool<byte>.Create(PageSize, PooledPages);

    /// <summary>The receiving side's arrival bitmaps, one per page.</summary>
    public static readonly ArrayPool<ulong> Bitmaps = ArrayPool<ulong>.Create(WordsPerPage, PooledPages);
}
