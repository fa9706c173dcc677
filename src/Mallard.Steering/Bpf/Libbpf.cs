using System.Runtime.InteropServices;

namespace Mallard.Steering.Bpf;

/// <summary>
/// The libbpf calls steering needs (Debian's libbpf1, <c>libbpf.so.1</c>): open and load an
/// object file, find its program and maps, read and write map entries, and run the program on a
/// crafted frame (<c>bpf_prog_test_run_opts</c>). libbpf 1.x returns NULL or a negative error
/// and sets errno.
/// </summary>
internal static unsafe partial class Libbpf
{
    private const string Library = "libbpf.so.1";

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint bpf_object__open_file(string path, void* options);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_object__load(nint @object);

    [LibraryImport(Library)]
    public static partial void bpf_object__close(nint @object);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint bpf_object__find_program_by_name(nint @object, string name);

    [LibraryImport(Library)]
    public static partial int bpf_program__fd(nint program);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint bpf_object__find_map_by_name(nint @object, string name);

    [LibraryImport(Library)]
    public static partial int bpf_map__fd(nint map);

    [LibraryImport(Library)]
    public static partial uint bpf_map__key_size(nint map);

    [LibraryImport(Library)]
    public static partial uint bpf_map__value_size(nint map);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_map_delete_elem(int fd, void* key);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_prog_test_run_opts(int programFd, TestRunOptions* options);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_map_get_next_key(int fd, void* key, void* nextKey);

    [LibraryImport(Library)]
    public static partial int libbpf_num_possible_cpus();

    /// <summary>struct bpf_prog_info of a program (232 octets in linux/bpf.h of this kernel; a shorter buffer gets the head).</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_obj_get_info_by_fd(int fd, void* info, uint* infoLength);

    /// <summary>Where run_time_ns and run_cnt lie in struct bpf_prog_info (counted only while sysctl kernel.bpf_stats_enabled is 1).</summary>
    public const int ProgramInfoRunTime = 192;
    public const int ProgramInfoRunCount = 200;
    public const int ProgramInfoLength = 208;

    /// <summary>A consumer of a BPF ring buffer map; <paramref name="sample"/> is called from <see cref="ring_buffer__poll"/> for each record.</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial nint ring_buffer__new(int mapFd, delegate* unmanaged<nint, byte*, nuint, int> sample, nint context, void* options);

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for records and consumes them; how many, or a negative error.</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial int ring_buffer__poll(nint ring, int timeoutMilliseconds);

    [LibraryImport(Library)]
    public static partial void ring_buffer__free(nint ring);

    /// <summary>BPF_XDP in enum bpf_attach_type.</summary>
    public const int AttachXdp = 37;

    /// <summary>XDP_FLAGS_SKB_MODE (generic) and XDP_FLAGS_DRV_MODE (native) from linux/if_link.h.</summary>
    public const uint XdpGeneric = 1u << 1;
    public const uint XdpNative = 1u << 2;

    /// <summary>Attaches a program as a link: it stays attached while the returned descriptor is open, and no longer (not even after a crash).</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial int bpf_link_create(int programFd, int targetFd, int attachType, LinkCreateOptions* options);

    /// <summary>The head of struct bpf_link_create_opts: its size, then the flags (the rest reads as zero).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LinkCreateOptions
    {
        public nuint Size;
        public uint Flags;
        public uint Padding;
    }

    /// <summary>struct bpf_test_run_opts (libbpf 1.1, LP64): <c>sz</c> first, so libbpf knows which fields we have.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TestRunOptions
    {
        public nuint Size;
        public void* DataIn;
        public void* DataOut;
        public uint DataSizeIn;
        public uint DataSizeOut;
        public void* ContextIn;
        public void* ContextOut;
        public uint ContextSizeIn;
        public uint ContextSizeOut;
        public uint ReturnValue;
        public int Repeat;
        public uint Duration;
        public uint Flags;
        public uint Cpu;
        public uint BatchSize;
    }
}
