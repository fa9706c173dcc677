using System.Buffers.Binary;

namespace Mallard.Quic.Tls;

/// <summary>A bounds-checked cursor over TLS structures: every read fails softly at the end (decode_error), never throws.</summary>
internal ref struct TlsReader
{
    private ReadOnlySpan<byte> _rest;

    public TlsReader(ReadOnlySpan<byte> data) => _rest = data;

    public readonly bool IsEmpty => _rest.IsEmpty;

    public bool Byte(out byte value)
    {
        value = 0;
        if (_rest.IsEmpty)
        {
            return false;
        }

        value = _rest[0];
        _rest = _rest[1..];
        return true;
    }

    public bool UInt16(out ushort value)
    {
        value = 0;
        if (_rest.Length < 2)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_rest);
        _rest = _rest[2..];
        return true;
    }

    public bool Bytes(int length, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (length < 0 || _rest.Length < length)
        {
            return false;
        }

        value = _rest[..length];
        _rest = _rest[length..];
        return true;
    }

    /// <summary>A vector with a 1-, 2- or 3-octet length prefix.</summary>
    public bool Vector(int lengthOctets, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_rest.Length < lengthOctets)
        {
            return false;
        }

        int length = 0;
        for (int i = 0; i < lengthOctets; i++)
        {
            length = (length << 8) | _rest[i];
        }

        _rest = _rest[lengthOctets..];
        return Bytes(length, out value);
    }
}
