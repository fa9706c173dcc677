using System.Buffers.Binary;
using System.Diagnostics;
using Mallard.QuicLb;
using Mallard.Steering;

namespace Mallard.Benchmarks;

/// <summary>
/// What the steering XDP program costs per packet, by branch, as the kernel times it
/// (<c>bpf_prog_test_run_opts</c> with a repeat count: the program alone, without a driver or a
/// wire), beside what deciding the same packet costs in user space with Mallard.QuicLb's decoder.
/// The VXLAN case is left out: a repeated test run keeps the frame the program grew, so every run
/// after the first would judge the wrapped frame (steer-cpu.sh measures it on a live path).
/// </summary>
internal static class SteeringCost
{
    private static readonly byte[] OwnMac = [0x02, 0, 0, 0, 0, 0x0a];
    private static readonly byte[] PeerMac = [0x02, 0, 0, 0, 0, 0x0b];

    public static void Run(int runs)
    {
        var plain = new QuicLbConfig(0, 4, 8);
        var encrypted = new QuicLbConfig(1, 4, 8, Convert.FromHexString("00112233445566778899aabbccddeeff"));
        using SteeringObject program = SteeringObject.Load();
        program.SetSettings(443, OwnMac, enabled: true);
        program.SetConfig(plain);
        program.SetConfig(encrypted);
        program.SetServer(0, Convert.FromHexString("41414141"), default, self: true);
        program.SetServer(0, Convert.FromHexString("42424242"), PeerMac, self: false);
        byte[] learned = Issue(encrypted, "42424242");
        program.Learn(learned, PeerMac, self: false);

        (string Name, byte[] Frame)[] cases =
        [
            ("own server ID (pass)", Frame(Issue(plain, "41414141"), 443)),
            ("peer's server ID (steered, XDP_TX)", Frame(Issue(plain, "42424242"), 443)),
            ("learned encrypted ID (steered)", Frame(learned, 443)),
            ("another UDP port (pass)", Frame(Issue(plain, "42424242"), 8443)),
        ];
        Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {Environment.ProcessorCount} cores; {runs:N0} runs per case, 1,252-octet IPv4 frames");
        byte[] output = new byte[2048];
        foreach ((string name, byte[] frame) in cases)
        {
            program.TestRun(frame, output, out _, runs, out uint nanoseconds);
            Console.WriteLine($"XDP program, {name}: {nanoseconds} ns per packet");
        }

        // The same decision in user space: Mallard.QuicLb's decoder on the connection ID.
        var decoder = new ConnectionIdDecoder([plain, encrypted]);
        byte[] peer = Issue(plain, "42424242");
        Measure("user space, decode a plaintext ID", runs, () => decoder.Decode(peer));
        Measure("user space, decode a single-pass encrypted ID", runs, () => decoder.Decode(learned));
    }

    private static void Measure(string name, int runs, Action decode)
    {
        for (int i = 0; i < 10_000; i++)
        {
            decode();
        }

        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++)
        {
            decode();
        }

        Console.WriteLine($"{name}: {Stopwatch.GetElapsedTime(start).TotalNanoseconds / runs:0} ns per packet");
    }

    private static byte[] Issue(QuicLbConfig config, string serverId)
    {
        byte[] connectionId = new byte[config.ConnectionIdLength];
        new ConnectionIdEncoder(config, Convert.FromHexString(serverId)).Issue(connectionId);
        return connectionId;
    }

    private static byte[] Frame(byte[] connectionId, ushort port)
    {
        byte[] frame = new byte[14 + 20 + 8 + 1210];
        OwnMac.CopyTo(frame, 0);
        frame[6] = 0x02;
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[23] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), port);
        frame[42] = 0x40;
        connectionId.CopyTo(frame, 43);
        return frame;
    }
}
