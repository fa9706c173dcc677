using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Mallard.QuicLb.Crypto;

namespace Mallard.Benchmarks;

/// <summary>
/// One AES-128 header protection mask (RFC 9001 section 5.4.3: AES-ECB of a 16-octet sample), as
/// every packet sent and received needs: through OpenSSL (.NET's <see cref="Aes.EncryptEcb(ReadOnlySpan{byte}, Span{byte}, PaddingMode)"/>,
/// what Mallard.Quic used) and through Mallard's AES-NI block cipher with the key schedule
/// expanded once (what it uses now). Setup checks both give the same octets.
/// </summary>
[MemoryDiagnoser]
public class HeaderProtectionBenchmarks
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(16);
    private readonly byte[] _sample = RandomNumberGenerator.GetBytes(16);
    private readonly byte[] _mask = new byte[16];
    private Aes _openSsl = null!;
    private Aes128 _managed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _openSsl = Aes.Create();
        _openSsl.Key = _key;
        _managed = new Aes128(_key);
        OpenSslEcb();
        byte[] expected = [.. _mask];
        Aes128Hardware();
        if (!expected.AsSpan().SequenceEqual(_mask))
        {
            throw new InvalidOperationException("OpenSSL and Aes128 disagree");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _openSsl.Dispose();

    [Benchmark(Baseline = true)]
    public int OpenSslEcb() => _openSsl.EncryptEcb(_sample, _mask, PaddingMode.None);

    [Benchmark]
    public void Aes128Hardware() => _managed.Encrypt(_sample, _mask);
}
