using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Net;
using System.Net.Sockets;

namespace Mallard.Balancer.Forwarding;

/// <summary>
/// The flows a balancer relays, kept in a memory-mapped file so that a balancer started after a
/// crash (<c>kill -9</c>) or a restart opens them again before any client speaks: a backend that
/// sends to a silent client (a download) finds its upstream port bound again and its replies
/// relayed to the same client address. One fixed-size slot per flow; a slot is written when a
/// flow opens and freed when it closes, straight into the page cache, which outlives the process.
/// </summary>
/// <remarks>
/// Each slot carries a checksum over its fields: a slot torn by a crash in the middle of its
/// write is ignored, never restored half. The file holds <c>listeners × Proxy:MaxFlows</c> slots
/// (64 octets each, 1 MiB per 16,384 flows), so it is bounded like the flow tables it mirrors.
/// </remarks>
internal sealed unsafe class FlowJournal : IDisposable
{
    public const int SlotSize = 64;

    private const int HeaderSize = 64;
    private const uint Magic = 0x4A424C4D; // "MLBJ"
    private const int Version = 1;
    private const byte Live = 1;
    // How .NET reports the file's lock held elsewhere: the lock's EWOULDBLOCK on Linux, a sharing violation on Windows.
    private const int LockHeldOnLinux = 11;
    private const int SharingViolation = unchecked((int)0x80070020);

    private readonly FileStream _stream;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Stack<int> _free = new();
    private readonly Lock _gate = new();
    private readonly byte* _slots;

    private FlowJournal(FileStream stream, MemoryMappedFile file, MemoryMappedViewAccessor view, int slots)
    {
        _stream = stream;
        _file = file;
        _view = view;
        Slots = slots;
        byte* mapped = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref mapped);
        _slots = mapped + _view.PointerOffset + HeaderSize;
    }

    /// <summary>Slots in the file.</summary>
    public int Slots { get; }

    /// <summary>Flows that found no free slot (and will not be restored after a crash).</summary>
    public long Full { get; private set; }

    /// <summary>
    /// Opens (or creates) the journal at <paramref name="path"/> with room for
    /// <paramref name="slots"/> flows, and returns the flows it held: what a previous process
    /// relayed when it ended. The file is then empty; restored flows are recorded again as they
    /// are opened. A journal of another size keeps its records; one of another version is started
    /// afresh; a file that is not a journal is refused. The file stays locked
    /// while the journal is open: a second balancer given the same file is refused.
    /// </summary>
    /// <exception cref="IOException">Another process has the journal open, or the file is not a journal.</exception>
    public static FlowJournal Open(string path, int slots, out IReadOnlyList<JournalRecord> previous)
    {
        long length = HeaderSize + ((long)slots * SlotSize);
        var records = new List<JournalRecord>();
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException error) when (error.HResult is LockHeldOnLinux or SharingViolation)
        {
            throw new IOException($"the flow journal {path} is in use by another process (one balancer per journal file)", error);
        }

        try
        {
            ReadRecords(stream, path, records);

            // Start over: a header and empty slots.
            stream.SetLength(0);
            stream.SetLength(length);
            Span<byte> header = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], Version);
            stream.Position = 0;
            stream.Write(header);
            stream.Flush();
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        // Mapped through the locked stream itself, which stays open (and locked) with the journal.
        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        var journal = new FlowJournal(stream, file, view, slots);
        for (int i = slots - 1; i >= 0; i--)
        {
            journal._free.Push(i);
        }

        previous = records;
        return journal;
    }

    /// <summary>
    /// Reads the live records of an existing journal, whatever its number of slots (the limits
    /// may have changed since it was written). A file that is not a journal is never overwritten:
    /// a configuration that names the wrong file stops start-up instead of destroying it.
    /// </summary>
    private static void ReadRecords(FileStream stream, string path, List<JournalRecord> records)
    {
        if (stream.Length == 0)
        {
            return; // just created
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        if (stream.Length < HeaderSize || stream.Read(header) != HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            throw new IOException($"{path} is not a flow journal; name a file of its own for Proxy:FlowJournal (this one is left as it is)");
        }

        if (BinaryPrimitives.ReadInt32LittleEndian(header[4..]) != Version)
        {
            return; // another version's layout: started afresh
        }

        Span<byte> slot = stackalloc byte[SlotSize];
        while (stream.Read(slot) == SlotSize)
        {
            if (JournalRecord.TryRead(slot, out JournalRecord record))
            {
                records.Add(record);
            }
        }
    }

    /// <summary>Writes a flow into a free slot; returns the slot, or -1 when the journal is full (counted).</summary>
    public int Record(in JournalRecord record)
    {
        int slot;
        lock (_gate)
        {
            if (!_free.TryPop(out slot))
            {
                Full++;
                return -1;
            }
        }

        record.Write(new Span<byte>(_slots + ((long)slot * SlotSize), SlotSize));
        return slot;
    }

    /// <summary>Frees a slot: its flow closed and must not come back after a restart.</summary>
    public void Forget(int slot)
    {
        if (slot < 0)
        {
            return;
        }

        _slots[(long)slot * SlotSize] = 0;
        lock (_gate)
        {
            _free.Push(slot);
        }
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        _stream.Dispose();
    }

    /// <summary>One relayed flow as the journal keeps it.</summary>
    /// <param name="Listener">The index of its listener in the configuration.</param>
    /// <param name="Client">Where its replies go.</param>
    /// <param name="Backend">The backend it relays to.</param>
    /// <param name="UpstreamPort">The local port the backend sees.</param>
    internal readonly record struct JournalRecord(int Listener, IPEndPoint Client, IPEndPoint Backend, int UpstreamPort)
    {
        // Layout: [0] 1 when live, [1] the client's address family (4 or 6), [2..3] listener,
        // [4..5] upstream port, [6..7] client port, [8..9] backend port, [10..25] client address,
        // [26..41] backend address (IPv4 in the first 4 octets), [42] the backend's family,
        // [56..63] FNV-1a of octets 0..55.
        public void Write(Span<byte> slot)
        {
            slot.Clear();
            slot[0] = Live;
            slot[1] = (byte)(Client.AddressFamily == AddressFamily.InterNetworkV6 ? 6 : 4);
            BinaryPrimitives.WriteUInt16LittleEndian(slot[2..], (ushort)Listener);
            BinaryPrimitives.WriteUInt16LittleEndian(slot[4..], (ushort)UpstreamPort);
            BinaryPrimitives.WriteUInt16LittleEndian(slot[6..], (ushort)Client.Port);
            BinaryPrimitives.WriteUInt16LittleEndian(slot[8..], (ushort)Backend.Port);
            Client.Address.TryWriteBytes(slot[10..26], out _);
            Backend.Address.TryWriteBytes(slot[26..42], out _);
            slot[42] = (byte)(Backend.AddressFamily == AddressFamily.InterNetworkV6 ? 6 : 4);
            BinaryPrimitives.WriteUInt64LittleEndian(slot[56..], Checksum(slot[..56]));
        }

        public static bool TryRead(ReadOnlySpan<byte> slot, out JournalRecord record)
        {
            record = default;
            if (slot[0] != Live || slot[1] is not (4 or 6) || slot[42] is not (4 or 6) || BinaryPrimitives.ReadUInt64LittleEndian(slot[56..]) != Checksum(slot[..56]))
            {
                return false;
            }

            var client = new IPEndPoint(new IPAddress(slot.Slice(10, slot[1] == 6 ? 16 : 4)), BinaryPrimitives.ReadUInt16LittleEndian(slot[6..]));
            var backend = new IPEndPoint(new IPAddress(slot.Slice(26, slot[42] == 6 ? 16 : 4)), BinaryPrimitives.ReadUInt16LittleEndian(slot[8..]));
            record = new JournalRecord(BinaryPrimitives.ReadUInt16LittleEndian(slot[2..]), client, backend, BinaryPrimitives.ReadUInt16LittleEndian(slot[4..]));
            return true;
        }

        private static ulong Checksum(ReadOnlySpan<byte> bytes)
        {
            ulong hash = 14695981039346656037;
            foreach (byte b in bytes)
            {
                hash = (hash ^ b) * 1099511628211;
            }

            return hash;
        }
    }
}
