using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.HandOver;

/// <summary>
/// The messages of a hand-over between two <c>mallard lb</c> processes, over one Unix
/// SOCK_SEQPACKET connection (<see cref="DescriptorChannel"/>). Little-endian, versioned:
/// <list type="number">
/// <item>successor → running: <see cref="Kind.Request"/> (magic, version, process ID);</item>
/// <item>running: stops its forwarding threads (its sockets stay open, so datagrams queue in the
/// kernel), then → successor: <see cref="Kind.Sockets"/> messages, each with up to
/// <see cref="DescriptorChannel.MaxDescriptors"/> descriptors and one <see cref="HandedItem"/> per
/// descriptor, and <see cref="Kind.End"/> with the totals; or <see cref="Kind.Refused"/> with a reason;</item>
/// <item>successor: starts forwarding on them → running: <see cref="Kind.Ready"/>;</item>
/// <item>running: closes its flow journal → successor: <see cref="Kind.Released"/>, and exits.</item>
/// </list>
/// Should the successor fail or go silent before <see cref="Kind.Ready"/>, the running process
/// starts its threads again on the sockets it still holds.
/// </summary>
internal static class HandOverProtocol
{
    public const uint Magic = 0x484C424D; // "MBLH"
    public const ushort Version = 1;

    public enum Kind : byte
    {
        Request = 1,
        Sockets = 2,
        End = 3,
        Ready = 4,
        Released = 5,
        Refused = 6,
    }

    public static int WriteRequest(Span<byte> buffer, int processId)
    {
        buffer[0] = (byte)Kind.Request;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[1..], Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[5..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[7..], processId);
        return 11;
    }

    /// <summary>Reads a request; the successor's process ID, or an exception naming what is wrong.</summary>
    public static int ReadRequest(ReadOnlySpan<byte> message)
    {
        if (message.Length < 11 || message[0] != (byte)Kind.Request || BinaryPrimitives.ReadUInt32LittleEndian(message[1..]) != Magic)
        {
            throw new InvalidDataException("not a mallard lb hand-over request");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(message[5..]);
        if (version != Version)
        {
            throw new InvalidDataException($"hand-over protocol version {version}; this build speaks version {Version}");
        }

        return BinaryPrimitives.ReadInt32LittleEndian(message[7..]);
    }

    /// <summary>A message of one kind and an optional text (Ready, Released, Refused).</summary>
    public static int WriteSignal(Span<byte> buffer, Kind kind, string text = "")
    {
        buffer[0] = (byte)kind;
        int length = Encoding.UTF8.GetBytes(text.AsSpan(0, Math.Min(text.Length, 1000)), buffer[1..]);
        return 1 + length;
    }

    public static string ReadText(ReadOnlySpan<byte> message) => Encoding.UTF8.GetString(message[1..]);

    /// <summary>The end of the sockets: how many were sent, and the sender's process ID.</summary>
    public static int WriteEnd(Span<byte> buffer, int items)
    {
        buffer[0] = (byte)Kind.End;
        BinaryPrimitives.WriteInt32LittleEndian(buffer[1..], items);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[5..], Environment.ProcessId);
        return 9;
    }

    public static (int Items, int ProcessId) ReadEnd(ReadOnlySpan<byte> message) =>
        message.Length >= 9
            ? (BinaryPrimitives.ReadInt32LittleEndian(message[1..]), BinaryPrimitives.ReadInt32LittleEndian(message[5..]))
            : throw new IOException("short hand-over end message");

    /// <summary>Writes one Sockets message describing <paramref name="items"/> (their descriptors travel beside it).</summary>
    public static int WriteSockets(Span<byte> buffer, IReadOnlyList<HandedItem> items)
    {
        var writer = new Writer(buffer);
        writer.Byte((byte)Kind.Sockets);
        writer.UInt16((ushort)items.Count);
        Span<byte> octets = stackalloc byte[ConnectionIdKey.MaxLength];
        foreach (HandedItem item in items)
        {
            writer.Text(item.Listener);
            writer.Byte(item.IsFlow ? (byte)1 : (byte)0);
            if (!item.IsFlow)
            {
                continue;
            }

            SocketAddress client = item.Client!;
            writer.UInt16((ushort)client.Family);
            writer.Byte((byte)client.Size);
            writer.Octets(client.Buffer.Span[..client.Size]);
            writer.Text(item.Backend!.ToString());
            writer.Byte(item.Answered ? (byte)1 : (byte)0);
            writer.Int64(item.IdleMilliseconds);
            writer.Byte((byte)item.ConnectionIds.Count);
            foreach (ConnectionIdKey id in item.ConnectionIds)
            {
                int length = id.CopyTo(octets);
                writer.Byte((byte)length);
                writer.Octets(octets[..length]);
            }
        }

        return writer.Position;
    }

    /// <summary>Reads a Sockets message; throws <see cref="InvalidDataException"/> on anything malformed.</summary>
    public static List<HandedItem> ReadSockets(ReadOnlySpan<byte> message)
    {
        var reader = new Reader(message);
        if (reader.Byte() != (byte)Kind.Sockets)
        {
            throw new InvalidDataException("expected a hand-over sockets message");
        }

        int count = reader.UInt16();
        var items = new List<HandedItem>(count);
        for (int i = 0; i < count; i++)
        {
            string listener = reader.Text();
            if (reader.Byte() == 0)
            {
                items.Add(new HandedItem(listener));
                continue;
            }

            var family = (AddressFamily)reader.UInt16();
            int size = reader.Byte();
            if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || size > 28)
            {
                throw new InvalidDataException("a handed flow's client address is not an IP address");
            }

            var client = new SocketAddress(family, size);
            reader.Octets(size).CopyTo(client.Buffer.Span);
            if (!IPEndPoint.TryParse(reader.Text(), out IPEndPoint? backend))
            {
                throw new InvalidDataException("a handed flow's backend is not an address");
            }

            bool answered = reader.Byte() != 0;
            long idle = reader.Int64();
            if (idle is < 0 or > 86_400_000)
            {
                throw new InvalidDataException("a handed flow's idle time is not 0 to 24 hours");
            }

            int ids = reader.Byte();
            var connectionIds = new ConnectionIdKey[ids];
            for (int c = 0; c < ids; c++)
            {
                int length = reader.Byte();
                if (length > ConnectionIdKey.MaxLength)
                {
                    throw new InvalidDataException("a handed connection ID is longer than 20 octets");
                }

                connectionIds[c] = new ConnectionIdKey(reader.Octets(length));
            }

            items.Add(new HandedItem(listener) { Client = client, Backend = backend, Answered = answered, IdleMilliseconds = idle, ConnectionIds = connectionIds });
        }

        return items;
    }

    private ref struct Writer(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Position { get; private set; }

        public void Byte(byte value) => _buffer[Position++] = value;

        public void UInt16(ushort value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[Position..], value);
            Position += 2;
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_buffer[Position..], value);
            Position += 8;
        }

        public void Octets(scoped ReadOnlySpan<byte> octets)
        {
            octets.CopyTo(_buffer[Position..]);
            Position += octets.Length;
        }

        public void Text(string text)
        {
            int length = Encoding.UTF8.GetBytes(text, _buffer[(Position + 1)..]);
            _buffer[Position] = checked((byte)length);
            Position += 1 + length;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> message)
    {
        private readonly ReadOnlySpan<byte> _message = message;
        private int _position;

        public byte Byte() => Octets(1)[0];

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Octets(2));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Octets(8));

        public string Text() => Encoding.UTF8.GetString(Octets(Byte()));

        public ReadOnlySpan<byte> Octets(int length)
        {
            if (_position + length > _message.Length)
            {
                throw new InvalidDataException("a hand-over message ends early");
            }

            ReadOnlySpan<byte> octets = _message.Slice(_position, length);
            _position += length;
            return octets;
        }
    }
}
