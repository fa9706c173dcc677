using System.Security.Cryptography;
using Mallard.Quic.Connections;
using Mallard.Quic.Crypto;
using Mallard.Quic.Recovery;
using Mallard.QuicLb.Invariants;

namespace Mallard.Quic.Tests.Connections;

/// <summary>Key updates on their own (RFC 9001 section 6): two endpoints' key phases, packets protected by one and opened by the other.</summary>
public class KeyPhaseStateTests
{
    private readonly byte[] _clientSecret = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _serverSecret = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void AnUpdateIsFollowedAndAnsweredAndTheNextWaitsForAnAcknowledgement()
    {
        (KeyPhaseState client, PacketSpace clientSpace) = Endpoint(_clientSecret, _serverSecret);
        (KeyPhaseState server, PacketSpace serverSpace) = Endpoint(_serverSecret, _clientSecret);
        Assert.True(client.CanUpdate);

        clientSpace.NextPacketNumber = 10; // ten packets of phase 0 went before the update
        client.AdvanceSend();
        Assert.Equal(1, client.SendPhase);
        Assert.False(client.CanUpdate); // its new phase must be answered and acknowledged first

        // The server opens the client's first packet of phase 1 with its next keys, then follows and answers.
        byte[] packet = Protect(clientSpace, 10, client.SendPhase);
        PacketProtection keys = server.ReceiveKeysFor(1, 10, out bool nextPhase);
        Assert.True(nextPhase);
        Assert.True(Open(keys, packet, 10));
        server.OnNextPhaseOpened(10);
        Assert.Equal((1, 1, 1), (server.ReceivePhase, server.SendPhase, server.CompletedUpdates));

        // The client opens the server's answer and completes its update.
        byte[] answer = Protect(serverSpace, 20, server.SendPhase);
        PacketProtection clientKeys = client.ReceiveKeysFor(1, 20, out nextPhase);
        Assert.True(nextPhase && Open(clientKeys, answer, 20));
        client.OnNextPhaseOpened(20);
        Assert.Equal(1, client.CompletedUpdates);
        Assert.False(client.CanUpdate);
        client.OnPacketAcknowledged(9); // sent before the update
        Assert.False(client.CanUpdate);
        client.OnPacketAcknowledged(11);
        Assert.True(client.CanUpdate);
    }

    [Fact]
    public void APacketDelayedAcrossAnUpdateOpensWithThePreviousKeys()
    {
        (KeyPhaseState client, PacketSpace clientSpace) = Endpoint(_clientSecret, _serverSecret);
        (KeyPhaseState server, _) = Endpoint(_serverSecret, _clientSecret);
        byte[] late = Protect(clientSpace, 5, 0); // phase 0, delayed
        client.AdvanceSend();
        byte[] first = Protect(clientSpace, 6, 1);

        PacketProtection next = server.ReceiveKeysFor(1, 6, out _);
        Assert.True(Open(next, first, 6));
        server.OnNextPhaseOpened(6);

        PacketProtection previous = server.ReceiveKeysFor(0, 5, out bool nextPhase);
        Assert.False(nextPhase); // older than the update: not a new one
        Assert.True(Open(previous, late, 5));
    }

    [Fact]
    public void TheUpdateIntervalCountsPacketsOfThePhase()
    {
        (KeyPhaseState client, _) = Endpoint(_clientSecret, _serverSecret);
        Assert.False(client.OnPacketSent(0)); // 0: never
        Assert.False(client.OnPacketSent(3));
        Assert.True(client.OnPacketSent(3));
        client.AdvanceSend();
        Assert.False(client.OnPacketSent(3)); // counting starts again in the new phase
    }

    private static (KeyPhaseState State, PacketSpace Space) Endpoint(byte[] send, byte[] receive)
    {
        var space = new PacketSpace(SpaceId.Application, new SentPacketPool());
        return (new KeyPhaseState(CipherSuite.Aes128GcmSha256, QuicVersion.V1, send, receive, space), space);
    }

    /// <summary>A short-header packet with a one-octet packet number and 20 octets of payload, protected with the space's send keys.</summary>
    private static byte[] Protect(PacketSpace space, ulong packetNumber, int phase)
    {
        byte[] packet = new byte[1 + 4 + 1 + 20 + PacketProtection.TagLength];
        packet[0] = (byte)(0x40 | (phase << 2));
        packet[5] = (byte)packetNumber;
        space.SendKeys!.Protect(packet, 5, 1, packetNumber, 20);
        return packet;
    }

    private static bool Open(PacketProtection keys, byte[] packet, ulong packetNumber)
    {
        byte[] copy = [.. packet];
        return keys.TryUnprotect(copy, 5, (long)packetNumber - 1, out ulong number, out _) && number == packetNumber;
    }
}
