using Mallard.QuicLb;

namespace Mallard.Steering.Tests;

/// <summary>
/// A reload as <c>mallard steer</c> applies it to the running program's maps (Steerer.Fill):
/// peers added and removed change the verdicts at once, without reloading the program.
/// </summary>
public sealed class SteererTests : IDisposable
{
    private const uint Pass = 2;
    private const uint Transmit = 3;
    private static readonly QuicLbConfig Plain = new(0, 4, 8);
    private static readonly byte[] ThirdMac = [0x02, 0, 0, 0, 0, 0x0c];

    private readonly SteeringObject _program = SteeringObject.Load();

    public void Dispose() => _program.Dispose();

    [Fact]
    public void AReloadAddsAndRemovesPeersInPlace()
    {
        SteeringSettings first = Settings(("42424242", Frames.PeerMac));
        Steerer.Fill(_program, first, Frames.OwnMac, previous: null);
        Assert.Equal(Transmit, Run("42424242", out byte[] toPeer));
        Assert.Equal(Frames.PeerMac, toPeer[..6]);
        Assert.Equal(Pass, Run("43434343", out _));

        // The second peer leaves, a third joins.
        SteeringSettings second = Settings(("43434343", ThirdMac));
        Steerer.Fill(_program, second, Frames.OwnMac, previous: first);
        Assert.Equal(Pass, Run("42424242", out _));
        Assert.Equal(Transmit, Run("43434343", out byte[] toThird));
        Assert.Equal(ThirdMac, toThird[..6]);
        Assert.Equal(Pass, Run("41414141", out _)); // still this server's own

        // The peer that left is no longer trusted: its frames are judged like any other.
        byte[] connectionId = new byte[Plain.ConnectionIdLength];
        new ConnectionIdEncoder(Plain, Convert.FromHexString("43434343")).Issue(connectionId);
        byte[] fromGone = Frames.Ipv4(Frames.Short(connectionId), sourceMac: Frames.PeerMac);
        Assert.Equal(Transmit, _program.TestRun(fromGone, new byte[fromGone.Length + 64], out _));
    }

    private static SteeringSettings Settings(params (string ServerId, byte[] Mac)[] peers) => new(
        "eth0",
        443,
        SteeringMode.Generic,
        [Plain],
        new Dictionary<int, byte[]> { [0] = Convert.FromHexString("41414141") },
        [.. peers.Select(p => new SteeringPeer(p.Mac, new Dictionary<int, byte[]> { [0] = Convert.FromHexString(p.ServerId) }))]);

    private uint Run(string serverId, out byte[] output)
    {
        byte[] connectionId = new byte[Plain.ConnectionIdLength];
        new ConnectionIdEncoder(Plain, Convert.FromHexString(serverId)).Issue(connectionId);
        byte[] frame = Frames.Ipv4(Frames.Short(connectionId));
        byte[] buffer = new byte[frame.Length + 64];
        uint verdict = _program.TestRun(frame, buffer, out int length);
        output = buffer[..length];
        return verdict;
    }
}
