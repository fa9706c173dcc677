using System.Runtime.CompilerServices;

namespace Mallard.QuicLb;

/// <summary>One octet per config rotation codepoint (0-7), stored inline in the decoder.</summary>
[InlineArray(8)]
internal struct PlaintextSlots
{
    private byte _first;
}
