using System.Buffers.Binary;
using Mallard.Quic.Connections;
using Mallard.Quic.Frames;
using Mallard.Quic.Tests.Connections;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Transport;
using Mallard.TestSupport;

namespace Mallard.Quic.Tests.Fuzzing;

/// <summary>
/// In-process, sans-IO fuzzing of Mallard.Quic (see <see cref="FuzzInput"/> for long runs): mutated
/// datagrams of real handshakes at both endpoints, and random frames inside authentic packets, so
/// that the frame parsers and connection state machines are reached past the AEAD. Nothing may
/// throw; a connection that a frame breaks must close with a transport error code.
/// </summary>
public class EndpointFuzzTests
{
    [Fact]
    public void MutatedDatagramsOfRealConnectionsNeverThrowAndLeaveTheServerWorking()
    {
        int seed = FuzzInput.Seed(9000);
        int iterations = FuzzInput.Iterations(20_000);
        var random = new Random(seed);
        using var network = new VirtualNetwork(seed);
        var corpus = new List<byte[]>();
        network.Drop = (_, datagram) =>
        {
            corpus.Add(datagram.ToArray());
            return false;
        };
        Connection client = network.Connect();
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed));
        ConnectionTests.Transfer(network, 20_000);
        network.Drop = null;

        for (int i = 0; i < iterations; i++)
        {
            byte[] input = FuzzInput.Mutate(random, corpus);
            try
            {
                if (random.Next(2) == 0)
                {
                    network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, input.ToArray());
                }
                else
                {
                    network.ClientEndpoint.Receive(network.Now, VirtualNetwork.ServerAddress, input.ToArray());
                }

                if (i % 256 == 0)
                {
                    network.RunUntil(() => false, 50_000); // timers run, answers go out
                }
            }
            catch (Exception error)
            {
                Assert.Fail(FuzzInput.Describe("datagram", seed, i, input, error));
            }
        }

        // The server still accepts and serves a new connection.
        using var fresh = new VirtualNetwork(seed + 1);
        Assert.Equal(20_000, ConnectionTests.Transfer(fresh, 20_000).Length);
        Assert.True(network.Server.Connections.Count <= network.Server.MaxConnections);
    }

    [Fact]
    public void RandomFramesInAuthenticPacketsNeverThrowAndCloseWithATransportError()
    {
        int seed = FuzzInput.Seed(9001);
        int iterations = FuzzInput.Iterations(20_000);
        var random = new Random(seed);
        VirtualNetwork? network = null;
        int closures = 0;
        try
        {
            for (int i = 0; i < iterations; i++)
            {
                if (network is null || network.ServerConnection!.State != ConnectionState.Established || network.Client!.State != ConnectionState.Established)
                {
                    if (network?.ServerConnection?.Error is ConnectionError error)
                    {
                        closures++;
                        Assert.True(error.ByPeer || IsTransportError(error), $"closed with {error}"); // a fuzzed CONNECTION_CLOSE may say anything
                    }

                    network?.Dispose();
                    network = new VirtualNetwork(random.Next());
                    Connection opened = network.Connect();
                    Assert.True(network.RunUntil(() => opened.HandshakeConfirmed && network.ServerConnection?.HandshakeConfirmed == true));
                }

                bool toServer = random.Next(2) == 0;
                byte[] payload = RandomFrames(random);
                try
                {
                    if (toServer)
                    {
                        network.Server.Receive(network.Now, VirtualNetwork.ClientAddress, PacketForge.OneRtt(network.Client!, payload));
                    }
                    else
                    {
                        network.ClientEndpoint.Receive(network.Now, VirtualNetwork.ServerAddress, PacketForge.OneRtt(network.ServerConnection!, payload));
                    }

                    network.Flush();
                }
                catch (Exception error)
                {
                    Assert.Fail(FuzzInput.Describe(toServer ? "frames to server" : "frames to client", seed, i, payload, error));
                }
            }
        }
        finally
        {
            network?.Dispose();
        }

        Assert.True(closures > 0, "no random frame ever broke a connection: the generator reaches too little");
    }

    private static bool IsTransportError(ConnectionError error) =>
        !error.IsApplication && (error.Code <= (ulong)TransportErrorCode.NoViablePath || error.Code is >= 0x100 and <= 0x1ff);

    /// <summary>One to four frames: well-formed ones with random fields, or a frame type followed by noise.</summary>
    private static byte[] RandomFrames(Random random)
    {
        byte[] buffer = new byte[1200];
        var writer = new FrameWriter(buffer);
        int count = 1 + random.Next(4);
        byte[] data = new byte[random.Next(0, 200)];
        random.NextBytes(data);
        for (int f = 0; f < count && writer.Remaining > 300; f++)
        {
            ulong small = (ulong)random.Next(0, 64);
            ulong any = random.Next(4) == 0 ? (ulong)random.NextInt64(0, 1L << 62) : small * (ulong)random.Next(1, 5000);
            switch (random.Next(17))
            {
                case 0: writer.Ping(); break;
                case 1: writer.Stream(small * 4, any % (1 << 20), data, fin: random.Next(4) == 0); break;
                case 2: writer.Stream((small * 4) + 2, any % (1 << 20), data, fin: random.Next(2) == 0); break;
                case 3: writer.ResetStream(small * 4, any, any % (1 << 20)); break;
                case 4: writer.StopSending(small * 4, any); break;
                case 5: writer.MaxData(any); break;
                case 6: writer.MaxStreamData(small * 4, any); break;
                case 7: writer.MaxStreams(random.Next(2) == 0, any); break;
                case 8: writer.NewConnectionId(small, small / 2, data.AsSpan(0, Math.Min(data.Length, random.Next(0, 21))), new byte[16]); break;
                case 9: writer.RetireConnectionId(small); break;
                case 10: writer.PathChallenge(new byte[8]); break;
                case 11: writer.Crypto(any % 4096, data); break;
                case 12: writer.Ack([((ulong)random.Next(0, 10), (ulong)random.Next(10, 40))], any % 1000); break;
                case 13: writer.DataBlocked(any); break;
                case 14: writer.StreamDataBlocked(small * 4, any); break;
                case 15: writer.NewToken(data.AsSpan(0, Math.Min(data.Length, 40))); break;
                default:
                    // A frame type, known or not, followed by noise.
                    Span<byte> rest = buffer.AsSpan(writer.Length, random.Next(1, 40));
                    random.NextBytes(rest);
                    rest[0] = (byte)random.Next(0, 0x40);
                    return buffer[..(writer.Length + rest.Length)];
            }
        }

        return buffer[..writer.Length];
    }
}
