namespace Mallard.QuicLb.Crypto;

/// <summary>Which instructions an <see cref="Aes128"/> instance uses for its rounds.</summary>
internal enum AesImplementation
{
    /// <summary>Plain C#: byte-wise S-box lookups. Correct everywhere, slower, not constant time.</summary>
    Portable,

    /// <summary>x86 AES-NI (System.Runtime.Intrinsics.X86.Aes).</summary>
    X86AesNi,

    /// <summary>Arm v8 cryptography extension (System.Runtime.Intrinsics.Arm.Aes).</summary>
    ArmAes,
}
