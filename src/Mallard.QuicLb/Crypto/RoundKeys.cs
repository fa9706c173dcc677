using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mallard.QuicLb.Crypto;

/// <summary>The eleven AES-128 round keys, stored inline so the hot path has no array bounds checks.</summary>
[InlineArray(Aes128.RoundKeyCount)]
internal struct RoundKeys
{
    private Vector128<byte> _first;
}
