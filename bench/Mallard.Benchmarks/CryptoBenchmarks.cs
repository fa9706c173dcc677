using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Mallard.Quic.Crypto;

namespace Mallard.Benchmarks;

/// <summary>
/// Mallard.Quic's X25519 (RFC 7748) and ChaCha20 header protection mask (RFC 9001 section 5.4.4)
/// beside libsodium 1.0.22 called directly. Mallard's were hand-written until commit 248647b and
/// run on libsodium since; run this benchmark at that commit for the comparison that decided it
/// (BENCHMARKS.md), and now to see what Mallard's wrapper costs. Setup checks both give the same octets.
/// </summary>
[MemoryDiagnoser]
public unsafe class CryptoBenchmarks
{
    private readonly byte[] _private = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _peerPublic = new byte[32];
    private readonly byte[] _secret = new byte[32];
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _sample = RandomNumberGenerator.GetBytes(16);
    private readonly byte[] _mask = new byte[5];
    private readonly byte[] _zeros = new byte[5];

    [GlobalSetup]
    public void Setup()
    {
        if (NativeMethods.sodium_init() < 0)
        {
            throw new InvalidOperationException("libsodium did not initialise");
        }

        X25519.PublicKey(RandomNumberGenerator.GetBytes(32), _peerPublic);
        MallardX25519();
        byte[] mine = [.. _secret];
        LibsodiumX25519();
        MallardChaCha20HeaderMask();
        byte[] mask = [.. _mask];
        LibsodiumChaCha20HeaderMask();
        if (!mine.AsSpan().SequenceEqual(_secret) || !mask.AsSpan().SequenceEqual(_mask))
        {
            throw new InvalidOperationException("Mallard and libsodium disagree");
        }
    }

    [Benchmark(Baseline = true)]
    public bool MallardX25519() => X25519.SharedSecret(_private, _peerPublic, _secret);

    [Benchmark]
    public int LibsodiumX25519()
    {
        fixed (byte* q = _secret, n = _private, p = _peerPublic)
        {
            return NativeMethods.crypto_scalarmult_curve25519(q, n, p);
        }
    }

    [Benchmark]
    public void MallardChaCha20HeaderMask() => ChaCha20.HeaderProtectionMask(_key, _sample, _mask);

    [Benchmark]
    public int LibsodiumChaCha20HeaderMask()
    {
        // RFC 9001 section 5.4.4: counter = sample[0..4] little-endian, nonce = sample[4..16]; mask = ChaCha20(zeros).
        uint counter = BitConverter.ToUInt32(_sample, 0);
        fixed (byte* c = _mask, m = _zeros, nonce = &_sample[4], k = _key)
        {
            return NativeMethods.crypto_stream_chacha20_ietf_xor_ic(c, m, 5, nonce, counter, k);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libsodium")]
        public static extern int sodium_init();

        [DllImport("libsodium")]
        public static extern int crypto_scalarmult_curve25519(byte* q, byte* n, byte* p);

        [DllImport("libsodium")]
        public static extern int crypto_stream_chacha20_ietf_xor_ic(byte* c, byte* m, ulong mlen, byte* n, uint ic, byte* k);
    }
}
