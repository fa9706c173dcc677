namespace Mallard.Http3.Qpack;

/// <summary>
/// QPACK's decoder (RFC 9204): applies the peer encoder's instructions to the dynamic table
/// (section 4.3), decodes field sections that reference the static and dynamic tables (section
/// 4.5), and produces the decoder stream's instructions (section 4.4). Every limit a hostile
/// encoder could push on is enforced here: the table's capacity, the decoded size of a section,
/// the length of a name or value, the size of a partial instruction, and the number of blocked
/// streams. Thread-safe: the encoder stream and the request streams call in concurrently.
/// </summary>
internal sealed class QpackDecoder
{
    private readonly Lock _gate = new();
    private readonly QpackDynamicTable _table;
    private readonly int _maxBlockedStreams;
    private readonly long _maxFieldSectionSize;
    private readonly List<byte> _pendingEncoderBytes = [];
    private readonly List<byte> _decoderInstructions = [];
    private readonly List<(long InsertCount, TaskCompletionSource Arrived)> _blocked = [];
    private long _knownReceivedCount;

    /// <param name="maxTableCapacity">SETTINGS_QPACK_MAX_TABLE_CAPACITY this end advertises.</param>
    /// <param name="maxBlockedStreams">SETTINGS_QPACK_BLOCKED_STREAMS this end advertises.</param>
    /// <param name="maxFieldSectionSize">SETTINGS_MAX_FIELD_SECTION_SIZE this end advertises: the most a decoded section may hold.</param>
    public QpackDecoder(long maxTableCapacity, int maxBlockedStreams, long maxFieldSectionSize)
    {
        _table = new QpackDynamicTable(maxTableCapacity);
        _maxBlockedStreams = maxBlockedStreams;
        _maxFieldSectionSize = maxFieldSectionSize;
    }

    /// <summary>The longest a partial encoder instruction may grow: a name and value of the largest entry the table could hold, plus their lengths.</summary>
    private long MaxInstructionLength => _table.MaxCapacity + 32;

    public long InsertCount
    {
        get
        {
            lock (_gate)
            {
                return _table.InsertCount;
            }
        }
    }

    /// <summary>
    /// Applies the complete instructions in what arrived on the encoder stream (keeping a partial
    /// one for the next call) and releases the field sections they unblock.
    /// </summary>
    public void OnEncoderStream(ReadOnlySpan<byte> data)
    {
        List<TaskCompletionSource> unblocked = [];
        lock (_gate)
        {
            _pendingEncoderBytes.AddRange(data);
            ReadOnlySpan<byte> pending = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pendingEncoderBytes);
            var reader = new QpackReader(pending, Http3ErrorCode.QpackEncoderStreamError);
            int consumed = 0;
            long insertsBefore = _table.InsertCount;
            while (!reader.AtEnd && ApplyInstruction(ref reader))
            {
                consumed = reader.Position;
            }

            _pendingEncoderBytes.RemoveRange(0, consumed);
            if (_pendingEncoderBytes.Count > MaxInstructionLength)
            {
                throw new QpackException(Http3ErrorCode.QpackEncoderStreamError, $"an encoder instruction longer than the {MaxInstructionLength} bytes the table allows");
            }

            if (_table.InsertCount > insertsBefore)
            {
                // Insert Count Increment (section 4.4.3): lets the encoder use the new entries without waiting for a section to acknowledge them.
                WriteInteger(_decoderInstructions, 0x00, 6, (ulong)(_table.InsertCount - _knownReceivedCount));
                _knownReceivedCount = _table.InsertCount;
            }

            for (int i = _blocked.Count - 1; i >= 0; i--)
            {
                if (_blocked[i].InsertCount <= _table.InsertCount)
                {
                    unblocked.Add(_blocked[i].Arrived);
                    _blocked.RemoveAt(i);
                }
            }
        }

        unblocked.ForEach(t => t.TrySetResult());
    }

    /// <summary>Takes the decoder-stream instructions produced so far (to be written by the caller), or an empty array.</summary>
    public byte[] TakeDecoderInstructions()
    {
        lock (_gate)
        {
            byte[] bytes = [.. _decoderInstructions];
            _decoderInstructions.Clear();
            return bytes;
        }
    }

    /// <summary>
    /// Decodes the field section of a HEADERS frame on <paramref name="streamId"/>, waiting while
    /// it references entries not yet inserted (a blocked stream, section 2.1.2).
    /// </summary>
    public async ValueTask<List<KeyValuePair<string, string>>> DecodeAsync(ReadOnlyMemory<byte> section, long streamId, CancellationToken cancellationToken)
    {
        long required = ReadRequiredInsertCount(section.Span);
        TaskCompletionSource? arrived = null;
        lock (_gate)
        {
            if (required > _table.InsertCount)
            {
                if (_blocked.Count >= _maxBlockedStreams)
                {
                    throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, $"more than the {_maxBlockedStreams} blocked streams this end allows");
                }

                arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _blocked.Add((required, arrived));
            }
        }

        if (arrived is not null)
        {
            try
            {
                await arrived.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    _blocked.RemoveAll(b => b.Arrived == arrived);
                }

                throw;
            }
        }

        lock (_gate)
        {
            List<KeyValuePair<string, string>> fields = Decode(section.Span, required);
            if (required > 0)
            {
                // Section Acknowledgment (section 4.4.1).
                WriteInteger(_decoderInstructions, 0x80, 7, (ulong)streamId);
                _knownReceivedCount = Math.Max(_knownReceivedCount, required);
            }

            return fields;
        }
    }

    /// <summary>The section's Required Insert Count (section 4.5.1.1), from its encoded form.</summary>
    private long ReadRequiredInsertCount(ReadOnlySpan<byte> section)
    {
        var reader = new QpackReader(section, Http3ErrorCode.QpackDecompressionFailed);
        if (!reader.TryReadInteger(8, out ulong encoded))
        {
            throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, "a field section without its prefix");
        }

        if (encoded == 0)
        {
            return 0;
        }

        lock (_gate)
        {
            long maxEntries = _table.MaxCapacity / QpackDynamicTable.EntryOverhead;
            long fullRange = 2 * maxEntries;
            if (encoded > (ulong)fullRange)
            {
                throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, "an encoded Required Insert Count beyond the table's range");
            }

            long maxValue = _table.InsertCount + maxEntries;
            long maxWrapped = maxValue / fullRange * fullRange;
            long required = maxWrapped + (long)encoded - 1;
            if (required > maxValue)
            {
                if (required <= fullRange)
                {
                    throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, "an invalid Required Insert Count");
                }

                required -= fullRange;
            }

            if (required == 0)
            {
                throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, "an invalid Required Insert Count");
            }

            return required;
        }
    }

    private List<KeyValuePair<string, string>> Decode(ReadOnlySpan<byte> section, long required)
    {
        var reader = new QpackReader(section, Http3ErrorCode.QpackDecompressionFailed);
        reader.TryReadInteger(8, out _);
        bool negative = !reader.AtEnd && (reader.Peek() & 0x80) != 0;
        if (!reader.TryReadInteger(7, out ulong deltaBase))
        {
            throw Truncated();
        }

        long @base = negative ? required - (long)deltaBase - 1 : required + (long)deltaBase;
        if (@base < 0 || (negative && required == 0))
        {
            throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, "a negative Base");
        }

        var fields = new List<KeyValuePair<string, string>>();
        long size = 0;
        int maxString = (int)Math.Min(int.MaxValue, _maxFieldSectionSize);
        while (!reader.AtEnd)
        {
            byte first = reader.Peek();
            string name, value;
            if ((first & 0x80) != 0)
            {
                // Indexed field line (section 4.5.2): 1 T index(6).
                ReadIndex(ref reader, 6, out ulong index);
                (name, value) = (first & 0x40) != 0 ? Static(index) : Dynamic(@base - 1 - (long)index, required);
            }
            else if ((first & 0x40) != 0)
            {
                // Literal field line with name reference (section 4.5.4): 0 1 N T index(4), value.
                ReadIndex(ref reader, 4, out ulong index);
                name = ((first & 0x10) != 0 ? Static(index) : Dynamic(@base - 1 - (long)index, required)).Name;
                value = ReadString(ref reader, 7, maxString);
            }
            else if ((first & 0x20) != 0)
            {
                // Literal field line with literal name (section 4.5.6): 0 0 1 N H length(3), name, value.
                name = ReadString(ref reader, 3, maxString);
                value = ReadString(ref reader, 7, maxString);
            }
            else if ((first & 0x10) != 0)
            {
                // Indexed field line with post-base index (section 4.5.3): 0 0 0 1 index(4).
                ReadIndex(ref reader, 4, out ulong index);
                (name, value) = Dynamic(@base + (long)index, required);
            }
            else
            {
                // Literal field line with post-base name reference (section 4.5.5): 0 0 0 0 N index(3), value.
                ReadIndex(ref reader, 3, out ulong index);
                name = Dynamic(@base + (long)index, required).Name;
                value = ReadString(ref reader, 7, maxString);
            }

            size += name.Length + value.Length + QpackDynamicTable.EntryOverhead;
            if (size > _maxFieldSectionSize)
            {
                throw new Http3Exception(Http3ErrorCode.ExcessiveLoad, $"a field section larger than the {_maxFieldSectionSize} bytes this end advertised (SETTINGS_MAX_FIELD_SECTION_SIZE)");
            }

            fields.Add(new KeyValuePair<string, string>(name, value));
        }

        return fields;
    }

    private static void ReadIndex(ref QpackReader reader, int prefixBits, out ulong index)
    {
        if (!reader.TryReadInteger(prefixBits, out index))
        {
            throw Truncated();
        }
    }

    private static string ReadString(ref QpackReader reader, int prefixBits, int maxLength) =>
        reader.TryReadString(prefixBits, maxLength, out string value) ? value : throw Truncated();

    private static QpackException Truncated() => new(Http3ErrorCode.QpackDecompressionFailed, "a truncated field section");

    private static (string Name, string Value) Static(ulong index) =>
        index < (ulong)QpackStaticTable.Entries.Length
            ? QpackStaticTable.Entries[(int)index]
            : throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, $"static table index {index} does not exist");

    /// <summary>A dynamic entry a section may reference: below its Required Insert Count and not evicted (section 2.2.3).</summary>
    private (string Name, string Value) Dynamic(long absoluteIndex, long required) =>
        absoluteIndex >= 0 && absoluteIndex < required && _table.Get(absoluteIndex) is { } entry
            ? entry
            : throw new QpackException(Http3ErrorCode.QpackDecompressionFailed, $"dynamic table index {absoluteIndex} is not available to this section");

    /// <summary>One encoder instruction (section 4.3); false when the input ends inside it.</summary>
    private bool ApplyInstruction(ref QpackReader reader)
    {
        byte first = reader.Peek();
        int maxString = (int)Math.Min(int.MaxValue, _table.MaxCapacity);
        if ((first & 0x80) != 0)
        {
            // Insert with name reference: 1 T index(6), value.
            if (!reader.TryReadInteger(6, out ulong index) || !reader.TryReadString(7, maxString, out string value))
            {
                return false;
            }

            string name = (first & 0x40) != 0 ? Static(index).Name : EncoderRelative(index).Name;
            _table.Insert(name, value);
        }
        else if ((first & 0x40) != 0)
        {
            // Insert with literal name: 0 1 H length(5), name, value.
            if (!reader.TryReadString(5, maxString, out string name) || !reader.TryReadString(7, maxString, out string value))
            {
                return false;
            }

            _table.Insert(name, value);
        }
        else if ((first & 0x20) != 0)
        {
            // Set Dynamic Table Capacity: 0 0 1 capacity(5).
            if (!reader.TryReadInteger(5, out ulong capacity))
            {
                return false;
            }

            _table.SetCapacity(capacity);
        }
        else
        {
            // Duplicate: 0 0 0 index(5).
            if (!reader.TryReadInteger(5, out ulong index))
            {
                return false;
            }

            (string name, string value) = EncoderRelative(index);
            _table.Insert(name, value);
        }

        return true;
    }

    /// <summary>An entry by the encoder stream's relative index: 0 is the newest (section 3.2.5).</summary>
    private (string Name, string Value) EncoderRelative(ulong relative) =>
        relative < (ulong)_table.InsertCount && _table.Get(_table.InsertCount - 1 - (long)relative) is { } entry
            ? entry
            : throw new QpackException(Http3ErrorCode.QpackEncoderStreamError, $"relative index {relative} names no entry in the dynamic table");

    private static void WriteInteger(List<byte> output, byte pattern, int prefixBits, ulong value) =>
        QpackWriter.WriteInteger(output, pattern, prefixBits, value);
}
