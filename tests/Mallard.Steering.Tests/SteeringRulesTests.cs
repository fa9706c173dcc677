using Mallard.QuicLb;

namespace Mallard.Steering.Tests;

/// <summary>
/// The user-space rules (SteeringRules) against the XDP program: on the same frames — crafted
/// ones, every truncation of them, and seeded random mutations — both take the same branch,
/// which the program's counters reveal (<c>bpf_prog_test_run_opts</c>; root or CAP_BPF). User
/// space also decodes encrypted IDs, which the program only steers once learned.
/// </summary>
public sealed class SteeringRulesTests : IDisposable
{
    private static readonly QuicLbConfig Plain = new(0, 4, 8);
    private static readonly QuicLbConfig Encrypted = new(1, 4, 8, Convert.FromHexString("00112233445566778899aabbccddeeff"));
    private static readonly QuicLbConfig SinglePass = new(2, 4, 12, Convert.FromHexString("ffeeddccbbaa99887766554433221100"));

    private readonly SteeringObject _program = SteeringObject.Load();
    private readonly SteeringRules _rules;

    public SteeringRulesTests()
    {
        var settings = new SteeringSettings(
            "eth0",
            443,
            SteeringMode.Generic,
            [Plain, Encrypted, SinglePass],
            new Dictionary<int, byte[]> { [0] = Convert.FromHexString("41414141"), [1] = Convert.FromHexString("41414141"), [2] = Convert.FromHexString("41414141") },
            [new SteeringPeer(Frames.PeerMac, new Dictionary<int, byte[]> { [0] = Convert.FromHexString("42424242"), [1] = Convert.FromHexString("42424242"), [2] = Convert.FromHexString("42424242") })]);
        Steerer.Fill(_program, settings, Frames.OwnMac, previous: null);
        _rules = SteeringRules.From(settings, Frames.OwnMac);
    }

    public void Dispose() => _program.Dispose();

    [Fact]
    public void UserSpaceTakesTheProgramsBranchOnEveryFrame()
    {
        var random = new Random(20261127);
        var corpus = new List<byte[]>();
        foreach (string server in new[] { "41414141", "42424242", "43434343" })
        {
            byte[] plain = Issue(Plain, server);
            corpus.Add(Frames.Ipv4(Frames.Short(plain)));
            corpus.Add(Frames.Ipv6(Frames.Short(plain)));
            corpus.Add(Frames.Ipv4(Frames.Long(2, plain)));
            corpus.Add(Frames.Ipv4(Frames.Long(0, plain)));
            corpus.Add(Frames.Ipv4(Frames.Long(2, plain, version: 0)));
            corpus.Add(Frames.Ipv4(Frames.Short(plain), port: 8443));
            corpus.Add(Frames.Ipv4(Frames.Short(plain), fragment: 0x2000));
            corpus.Add(Frames.Ipv6(Frames.Short(plain), nextHeader: 0));
            corpus.Add(Frames.Ipv4(Frames.Short(plain), sourceMac: Frames.PeerMac));
            byte[] unroutable = (byte[])plain.Clone();
            unroutable[0] |= 0xe0;
            corpus.Add(Frames.Ipv4(Frames.Short(unroutable)));
            corpus.Add(Frames.Ipv4(Frames.Short(Issue(new QuicLbConfig(3, 4, 8), server))));
        }

        foreach (byte[] frame in corpus.ToArray())
        {
            for (int length = 14; length < frame.Length; length += length < 80 ? 1 : 97)
            {
                corpus.Add(frame[..length]);
            }

            for (int i = 0; i < 40; i++)
            {
                byte[] mutated = (byte[])frame.Clone();
                mutated[random.Next(Math.Min(mutated.Length, 90))] = (byte)random.Next(256);
                corpus.Add(mutated);
            }
        }

        foreach (byte[] frame in corpus)
        {
            SteeringBranch kernel = ProgramBranch(frame);
            SteeringVerdict user = _rules.Judge(frame);
            if (user.Encrypted)
            {
                // The program cannot decode these: it queues them for user space, which decides.
                Assert.Equal(SteeringBranch.NotLearned, kernel);
                continue;
            }

            Assert.True(kernel == user.Branch, $"the program took {kernel}, user space {user.Branch}, on {Convert.ToHexString(frame)}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void UserSpaceDecodesEncryptedIds(int configId)
    {
        QuicLbConfig config = configId == 1 ? Encrypted : SinglePass;
        SteeringVerdict peer = _rules.Judge(Frames.Ipv4(Frames.Short(Issue(config, "42424242"))));
        Assert.Equal(SteeringBranch.Steered, peer.Branch);
        Assert.True(peer.Encrypted);
        Assert.Equal(SteeringTarget.MacOf(Frames.PeerMac), peer.Target.Mac);
        Assert.Equal((14 + 20 + 8 + 1, config.ConnectionIdLength), (peer.ConnectionIdOffset, peer.ConnectionIdLength));

        Assert.Equal(SteeringBranch.Own, _rules.Judge(Frames.Ipv6(Frames.Short(Issue(config, "41414141")))).Branch);
        Assert.Equal(SteeringBranch.UnknownServer, _rules.Judge(Frames.Ipv4(Frames.Long(2, Issue(config, "43434343")))).Branch);
    }

    private static byte[] Issue(QuicLbConfig config, string serverId)
    {
        byte[] connectionId = new byte[config.ConnectionIdLength];
        new ConnectionIdEncoder(config, Convert.FromHexString(serverId)).Issue(connectionId);
        return connectionId;
    }

    // The one counter the run moved.
    private SteeringBranch ProgramBranch(byte[] frame)
    {
        long[] before = _program.Counters();
        _program.TestRun(frame, new byte[frame.Length + 256], out _);
        long[] after = _program.Counters();
        int[] moved = [.. Enumerable.Range(0, after.Length).Where(i => after[i] != before[i])];
        Assert.Single(moved);
        return (SteeringBranch)moved[0];
    }
}
