using System.Net;
using Mallard.Quic.Connections;
using Mallard.Quic.Tests.TestSupport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>A server following its client to a new address (RFC 9000 section 9), and not following a spoofed one.</summary>
public class MigrationTests
{
    private static readonly SocketAddress NewPort = new IPEndPoint(IPAddress.Loopback, 50_001).Serialize();
    private static readonly SocketAddress NewHost = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 50_000).Serialize();
    private static readonly SocketAddress Attacker = new IPEndPoint(IPAddress.Parse("127.0.0.66"), 40_000).Serialize();

    [Fact]
    public void ANatRebindingInTheMiddleOfATransferIsFollowedAndValidated()
    {
        using var network = new VirtualNetwork(31);
        long cwndBefore = 0;
        long cwndAfter = 0;
        byte[] response = ConnectionTests.Transfer(network, 400_000, onStep: () =>
        {
            Connection? server = network.ServerConnection;
            if (server is not null && network.DatagramsToClient > 60 && network.CurrentClientAddress == VirtualNetwork.ClientAddress)
            {
                cwndBefore = server.CongestionWindow;
                network.CurrentClientAddress = NewPort; // the NAT maps the client to a new port
            }

            if (server is { PathMigrations: 1 } && cwndAfter == 0)
            {
                cwndAfter = server.CongestionWindow;
            }
        });

        Connection server = network.ServerConnection!;
        Assert.Equal(400_000, response.Length);
        Assert.Equal(NewPort, server.Remote);
        Assert.Equal(1, server.PathMigrations);
        Assert.Equal(1, server.PathValidations);
        Assert.False(server.PathValidationPending);

        // Only the port changed: the congestion window carries over (RFC 9000 section 9.4).
        Assert.True(cwndAfter >= cwndBefore / 2, $"window {cwndBefore} became {cwndAfter}");
    }

    [Fact]
    public void AMoveToANewHostStartsWithAFreshCongestionWindow()
    {
        using var network = new VirtualNetwork(32);
        long cwndAfter = 0;
        long cwndBefore = 0;
        byte[] response = ConnectionTests.Transfer(network, 400_000, onStep: () =>
        {
            Connection? server = network.ServerConnection;
            if (server is not null && network.DatagramsToClient > 150 && network.CurrentClientAddress == VirtualNetwork.ClientAddress)
            {
                cwndBefore = server.CongestionWindow;
                network.CurrentClientAddress = NewHost;
            }

            if (server is { PathMigrations: 1 } && cwndAfter == 0)
            {
                cwndAfter = server.CongestionWindow;
            }
        });

        Assert.Equal(400_000, response.Length);
        Assert.Equal(NewHost, network.ServerConnection!.Remote);
        Assert.Equal(1, network.ServerConnection.PathValidations);
        long initial = Mallard.Quic.Congestion.NewRenoController.InitialWindow(Connection.MinimumInitialDatagramSize);
        Assert.True(cwndBefore > initial, $"the window had not grown before the move ({cwndBefore})");
        Assert.Equal(initial, cwndAfter);
    }

    [Fact]
    public void AReplayedPacketFromAnotherAddressDoesNotMoveThePath()
    {
        using var network = new VirtualNetwork(33);
        byte[]? captured = null;
        bool replayed = false;
        network.Drop = (towardsServer, datagram) =>
        {
            if (towardsServer && network.ServerConnection?.HandshakeConfirmed == true && captured is null && (datagram[0] & 0x80) == 0)
            {
                captured = datagram; // delivered as usual; a copy is replayed later
            }

            return false;
        };

        byte[] response = ConnectionTests.Transfer(network, 200_000, onStep: () =>
        {
            if (captured is not null && !replayed && network.DatagramsToClient > 80)
            {
                replayed = true;
                network.InjectToServer(Attacker, captured);
            }
        });

        Assert.True(replayed);
        Assert.Equal(200_000, response.Length);
        Assert.Equal(VirtualNetwork.ClientAddress, network.ServerConnection!.Remote);
        Assert.Equal(0, network.ServerConnection.PathMigrations);
        Assert.Equal(0, network.BytesToNowhere);
    }

    [Fact]
    public void AForwardedPacketFromASpoofedAddressMovesThePathOnlyUntilTheClientSpeaksAgain()
    {
        // An on-path attacker forwards one of the client's packets from its own address before
        // the client's copy arrives (RFC 9000 section 9.3.3). The server moves, but may send the
        // attacker no more than three times what it received from it; the client's next packet
        // moves the path back to its address, which needs no new validation.
        using var network = new VirtualNetwork(34);
        bool stolen = false;
        long stolenLength = 0;
        network.Drop = (towardsServer, datagram) =>
        {
            if (towardsServer && !stolen && network.ServerConnection?.HandshakeConfirmed == true && network.DatagramsToClient > 80 && (datagram[0] & 0x80) == 0)
            {
                stolen = true;
                stolenLength = datagram.Length;
                network.InjectToServer(Attacker, datagram, delay: 1_000); // the attacker is closer to the server
                return true;
            }

            return false;
        };

        byte[] response = ConnectionTests.Transfer(network, 300_000);

        Connection server = network.ServerConnection!;
        Assert.True(stolen);
        Assert.Equal(300_000, response.Length);
        Assert.Equal(VirtualNetwork.ClientAddress, server.Remote);
        Assert.Equal(2, server.PathMigrations);
        Assert.Equal(0, server.PathValidations);

        // Whatever the pacer let through while the path pointed at the attacker, it stayed within the amplification limit.
        Assert.InRange(network.BytesToNowhere, 0, 3 * stolenLength);
    }

    [Fact]
    public void WhenTheNewAddressNeverAnswersThePathGoesBackToTheValidatedOne()
    {
        using var network = new VirtualNetwork(35);
        long silentUntil = 0;
        bool stolen = false;
        network.Drop = (towardsServer, datagram) =>
        {
            if (towardsServer && !stolen && network.ServerConnection?.HandshakeConfirmed == true && network.DatagramsToClient > 80 && (datagram[0] & 0x80) == 0)
            {
                stolen = true;
                network.InjectToServer(Attacker, datagram);
                silentUntil = network.Now + 3_000_000; // and the client is not heard for 3 s
                return true;
            }

            return towardsServer && network.Now < silentUntil;
        };

        SocketAddress? remoteWhenClientReturns = null;
        byte[] response = ConnectionTests.Transfer(network, 300_000, onStep: () =>
        {
            if (stolen && remoteWhenClientReturns is null && network.Now >= silentUntil)
            {
                remoteWhenClientReturns = network.ServerConnection!.Remote;
            }
        });

        Assert.Equal(300_000, response.Length);
        Assert.Equal(VirtualNetwork.ClientAddress, remoteWhenClientReturns); // reverted by the validation timeout, before the client spoke
        Assert.Equal(0, network.ServerConnection!.PathValidations);
        Assert.False(network.ServerConnection.PathValidationPending);
    }

    [Fact]
    public void AClientThatMovesUsesAFreshConnectionIdAndTheServerFollows()
    {
        using var network = new VirtualNetwork(36);
        byte[]? oldConnectionId = null;
        bool moved = false;
        byte[] response = ConnectionTests.Transfer(network, 300_000, onStep: () =>
        {
            Connection client = network.Client!;
            if (!moved && network.DatagramsToClient > 60 && client.MigrationRefusal() is null)
            {
                moved = true;
                oldConnectionId = network.ServerConnection!.LocalConnectionIds.First();
                client.MigrateToNewPath(network.Now);
                network.CurrentClientAddress = NewPort; // the host sends from its new socket
            }
        });

        Connection server = network.ServerConnection!;
        Assert.True(moved);
        Assert.Equal(300_000, response.Length);
        Assert.Equal(1, network.Client!.LocalMigrations);
        Assert.Equal(NewPort, server.Remote);
        Assert.Equal(1, server.PathValidations);

        // The client retired the connection ID of the old path; the server issued a replacement.
        Assert.True(network.RunUntil(() => !server.LocalConnectionIds.Any(id => id.AsSpan().SequenceEqual(oldConnectionId)), 2_000_000));
        Assert.Equal(4, server.LocalConnectionIds.Count());
    }

    [Fact]
    public void AClientCannotMoveBeforeConfirmationOrWithoutASpareConnectionId()
    {
        using var network = new VirtualNetwork(37);
        Connection client = network.Connect();
        Assert.Contains("not confirmed", client.MigrationRefusal(), StringComparison.Ordinal);
        Assert.True(network.RunUntil(() => client.HandshakeConfirmed && client.MigrationRefusal() is null, 5_000_000));
        Assert.Contains("only a client", network.ServerConnection!.MigrationRefusal(), StringComparison.Ordinal);

        // Moving three times uses the server's three spare IDs; each move retires one, and the
        // server replaces it, so a client that waits a round trip can move again.
        for (int move = 0; move < 3; move++)
        {
            Assert.Null(client.MigrationRefusal());
            client.MigrateToNewPath(network.Now);
            network.CurrentClientAddress = new IPEndPoint(IPAddress.Loopback, 50_010 + move).Serialize();
            network.Flush();
            Assert.True(network.RunUntil(() => network.ServerConnection.PathValidations == move + 1, 2_000_000));
        }
    }
}
