using System.Net;
using Mallard.Balancer.Forwarding;
using Mallard.Balancer.Routing;

namespace Mallard.Balancer.Tests.Forwarding;

/// <summary>The per-connection return-path rule in virtual time (milliseconds), with a 250 ms hold.</summary>
public class ReturnPathStateTests
{
    private const long Hold = 250;
    private static readonly SocketAddress Client = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40_000).Serialize();
    private static readonly SocketAddress Attacker = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 50_000).Serialize();
    private static readonly SocketAddress Rebound = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40_001).Serialize();

    [Fact]
    public void AnAttackerWhoTakesAnIdleFlowLosesItTheMomentTheClientSpeaks()
    {
        // The review's scenario: the client idles, an attacker who knows the connection ID sends
        // every 100 ms, and the client makes 40 requests, one every 500 ms; the backend answers each
        // at once. Before, the attacker kept the path and the client got 0 of 40 replies.
        var state = new ReturnPathState(ReturnPath.CopyOf(EndpointKey.From(Client), Client), 0);
        long now = 10_000;
        int repliesToClient = 0;
        long toAttacker = 0;
        long fromAttacker = 0;
        for (int request = 0; request < 40; request++)
        {
            for (int tick = 0; tick < 5; tick++, now += 100)
            {
                Speak(state, Attacker, 30, now);
                fromAttacker += 30;
                if (IsTo(state.ReplyDestination(30, now, Hold), Attacker))
                {
                    toAttacker += 30; // the backend answers the attacker's packet too
                }
            }

            Speak(state, Client, 50, now);
            if (IsTo(state.ReplyDestination(1_200, now + 1, Hold), Client))
            {
                repliesToClient++;
            }
        }

        Assert.Equal(40, repliesToClient);
        Assert.True(toAttacker <= ReturnPathState.AmplificationFactor * fromAttacker);
    }

    [Fact]
    public void AnUnvalidatedAddressGetsAtMostThreeTimesWhatItSentAndTheRestGoesToTheValidatedOne()
    {
        var state = new ReturnPathState(ReturnPath.CopyOf(EndpointKey.From(Client), Client), 0);
        Assert.Equal(ReturnPathState.Change.Moved, Speak(state, Attacker, 100, 1_000)); // the client was silent for 1 s

        long toAttacker = 0;
        int toClient = 0;
        for (int i = 0; i < 20; i++)
        {
            if (IsTo(state.ReplyDestination(100, 1_001 + i, Hold), Attacker))
            {
                toAttacker += 100;
            }
            else
            {
                toClient++;
            }
        }

        Assert.Equal(300, toAttacker);
        Assert.Equal(17, toClient);
    }

    [Fact]
    public void ANatRebindingIsTrustedOnceTheOldAddressStaysSilentForTheHoldTime()
    {
        var state = new ReturnPathState(ReturnPath.CopyOf(EndpointKey.From(Client), Client), 0);
        Assert.Equal(ReturnPathState.Change.Moved, Speak(state, Rebound, 50, 1_000));
        Assert.True(IsTo(state.ReplyDestination(150, 1_010, Hold), Rebound));
        Assert.True(IsTo(state.ReplyDestination(1_200, 1_010, Hold), Client)); // beyond 3x: to the validated address

        // After the hold time with the old address silent, the new one carries everything.
        Assert.True(IsTo(state.ReplyDestination(1_200, 1_000 + Hold, Hold), Rebound));
        Speak(state, Rebound, 50, 1_300);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(IsTo(state.ReplyDestination(1_200, 1_300 + i, Hold), Rebound));
        }
    }

    [Fact]
    public void AfterARebindingAReplayedOldAddressCannotLockTheClientOut()
    {
        // The mirror attack: the client moved for good; someone replays from its old address every 100 ms.
        var state = new ReturnPathState(ReturnPath.CopyOf(EndpointKey.From(Client), Client), 0);
        Speak(state, Rebound, 50, 1_000);
        Speak(state, Rebound, 50, 1_300); // validated
        for (long now = 1_400; now < 5_000; now += 100)
        {
            Speak(state, Client, 30, now);
            Speak(state, Rebound, 50, now + 10);
            Assert.True(IsTo(state.ReplyDestination(1_200, now + 11, Hold), Rebound));
        }
    }

    [Fact]
    public void ANewAddressIsHeldWhileTheCurrentOneSpeaks()
    {
        var state = new ReturnPathState(ReturnPath.CopyOf(EndpointKey.From(Client), Client), 0);
        for (long now = 0; now < 2_000; now += 100)
        {
            Assert.Equal(ReturnPathState.Change.None, Speak(state, Client, 50, now));
            Assert.Equal(ReturnPathState.Change.Held, Speak(state, Attacker, 50, now + 50));
            Assert.True(IsTo(state.ReplyDestination(1_200, now + 51, Hold), Client));
        }
    }

    private static ReturnPathState.Change Speak(ReturnPathState state, SocketAddress from, int length, long now) =>
        state.OnClientDatagram(EndpointKey.From(from), from, length, now, Hold);

    private static bool IsTo(SocketAddress destination, SocketAddress expected) => EndpointKey.From(destination) == EndpointKey.From(expected);
}
