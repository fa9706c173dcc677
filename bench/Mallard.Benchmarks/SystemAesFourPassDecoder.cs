using System.Security.Cryptography;

namespace Mallard.Benchmarks;

/// <summary>
/// The baseline: the same QUIC-LB server ID decode written the obvious way, one
/// <see cref="Aes.EncryptEcb(ReadOnlySpan{byte}, Span{byte}, PaddingMode)"/> (or DecryptEcb) call
/// per AES block, byte arrays for the halves. Only for comparison in the benchmarks.
/// </summary>
internal sealed class SystemAesFourPassDecoder : IDisposable
{
    private readonly Aes _aes;
    private readonly int _serverIdLength;
    private readonly int _length;
    private readonly int _half;
    private readonly bool _odd;

    public SystemAesFourPassDecoder(byte[] key, int serverIdLength, int nonceLength)
    {
        _aes = Aes.Create();
        _aes.Key = key;
        _serverIdLength = serverIdLength;
        _length = serverIdLength + nonceLength;
        _half = (_length + 1) / 2;
        _odd = (_length & 1) != 0;
    }

    /// <summary>Writes the server ID of <paramref name="connectionId"/> into <paramref name="serverId"/>.</summary>
    public void DecodeServerId(ReadOnlySpan<byte> connectionId, Span<byte> serverId)
    {
        ReadOnlySpan<byte> body = connectionId.Slice(1, _length);
        if (_length == 16)
        {
            Span<byte> plain = stackalloc byte[16];
            _aes.DecryptEcb(body, plain, PaddingMode.None);
            plain[.._serverIdLength].CopyTo(serverId);
            return;
        }

        Span<byte> left = stackalloc byte[_half];
        Span<byte> right = stackalloc byte[_half];
        body[.._half].CopyTo(left);
        body[(_length - _half)..].CopyTo(right);
        ClearLeft(left);
        ClearRight(right);

        Round(right, left, 4, ClearLeft);
        Round(left, right, 3, ClearRight);
        Round(right, left, 2, ClearLeft);
        if (_serverIdLength <= _length / 2)
        {
            left[.._serverIdLength].CopyTo(serverId);
            return;
        }

        Round(left, right, 1, ClearRight);
        Span<byte> whole = stackalloc byte[_length];
        right.CopyTo(whole[(_length - _half)..]);
        for (int i = 0; i < _half; i++)
        {
            whole[i] |= left[i];
        }

        whole[.._serverIdLength].CopyTo(serverId);
    }

    public void Dispose() => _aes.Dispose();

    // target ^= truncate(AES(expand(len, pass, source))), then clear the shared nibble.
    private void Round(ReadOnlySpan<byte> source, Span<byte> target, byte pass, ClearBits clear)
    {
        Span<byte> input = stackalloc byte[16];
        Span<byte> output = stackalloc byte[16];
        input.Clear();
        source.CopyTo(input);
        input[14] = (byte)_length;
        input[15] = pass;
        _aes.EncryptEcb(input, output, PaddingMode.None);
        for (int i = 0; i < _half; i++)
        {
            target[i] ^= output[i];
        }

        clear(target);
    }

    private delegate void ClearBits(Span<byte> half);

    private void ClearLeft(Span<byte> half)
    {
        if (_odd)
        {
            half[_half - 1] &= 0xf0;
        }
    }

    private void ClearRight(Span<byte> half)
    {
        if (_odd)
        {
            half[0] &= 0x0f;
        }
    }
}
