using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mallard.QuicLb;

/// <summary>One vector mask per config rotation codepoint (0-7), stored inline in the decoder.</summary>
[InlineArray(8)]
internal struct MaskSlots
{
    private Vector128<byte> _first;
}
