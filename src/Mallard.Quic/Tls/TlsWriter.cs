using System.Buffers.Binary;

namespace Mallard.Quic.Tls;

/// <summary>Builds TLS structures into a growing buffer, with length-prefixed vectors filled in afterwards.</summary>
internal sealed class TlsWriter
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public void Byte(byte value) => _bytes.Add(value);

    public void UInt16(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
    }

    public void Bytes(ReadOnlySpan<byte> value) => _bytes.AddRange(value);

    /// <summary>Writes a vector whose body <paramref name="body"/> writes, prefixed with its length in <paramref name="lengthOctets"/> octets.</summary>
    public void Vector(int lengthOctets, Action<TlsWriter> body)
    {
        int start = _bytes.Count;
        for (int i = 0; i < lengthOctets; i++)
        {
            _bytes.Add(0);
        }

        body(this);
        int length = _bytes.Count - start - lengthOctets;
        for (int i = lengthOctets - 1; i >= 0; i--)
        {
            _bytes[start + i] = (byte)length;
            length >>= 8;
        }
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>A handshake message: type, 24-bit length, body.</summary>
    public static byte[] Message(HandshakeType type, Action<TlsWriter> body)
    {
        var writer = new TlsWriter();
        writer.Byte((byte)type);
        writer.Vector(3, body);
        return writer.ToArray();
    }

    public static ushort ReadUInt16(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadUInt16BigEndian(data);
}
