using Mallard.Quic.Connections;
using Mallard.Quic.Frames;
using Mallard.Quic.Recovery;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Connections;

/// <summary>Both sides' connection IDs on their own (RFC 9000 sections 5.1, 19.15, 19.16), without a connection around them.</summary>
public class ConnectionIdStateTests
{
    private static readonly byte[] Token = new byte[16];

    [Fact]
    public void NewIdsAreKeptUpToTheActiveLimitAndOneMoreIsALimitError()
    {
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        for (ulong sequence = 1; sequence < 4; sequence++)
        {
            Assert.Null(state.OnNewConnectionId(sequence, 0, Id(sequence), Token));
        }

        Assert.Equal(TransportErrorCode.ConnectionIdLimitError, state.OnNewConnectionId(4, 0, Id(4), Token)?.Code);
    }

    [Fact]
    public void ASequenceNumberMayRepeatOnlyWithTheSameId()
    {
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        Assert.Null(state.OnNewConnectionId(1, 0, Id(1), Token));
        Assert.Null(state.OnNewConnectionId(1, 0, Id(1), Token)); // a retransmission
        Assert.Equal(TransportErrorCode.ProtocolViolation, state.OnNewConnectionId(1, 0, Id(7), Token)?.Code);
    }

    [Fact]
    public void RetirePriorToRetiresTheOlderIdsAndMovesOffTheCurrentOne()
    {
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        Assert.Null(state.OnNewConnectionId(1, 0, Id(1), Token));
        Assert.Null(state.OnNewConnectionId(2, 2, Id(2), Token));

        Assert.Equal([1UL, 0UL], state.ToRetire.Order().Reverse());
        Assert.Equal(Id(2), state.PeerCurrent); // the one in use was retired: the lowest left takes over
        Assert.True(state.HasFramesToSend);
    }

    [Fact]
    public void RetirementsOwedAreBoundedAgainstAFlood()
    {
        // NEW_CONNECTION_ID below retire_prior_to, each with a fresh sequence number: each one is
        // owed a retirement at once (the pattern of CVE-2024-22189).
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        Assert.Null(state.OnNewConnectionId(1000, 1000, Id(1000), Token));
        (TransportErrorCode Code, string Reason)? error = null;
        for (ulong sequence = 1; sequence < 100 && error is null; sequence++)
        {
            error = state.OnNewConnectionId(sequence, 0, Id(sequence), Token);
        }

        Assert.Equal(TransportErrorCode.ConnectionIdLimitError, error?.Code);
        Assert.True(state.ToRetire.Count <= 16);
    }

    [Fact]
    public void RetireConnectionIdNamesAnIssuedIdOnce()
    {
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        byte next = 10;
        state.Issue(3, () => [next++, 2, 3, 4], _ => Token, null);

        Assert.Equal(TransportErrorCode.ProtocolViolation, state.OnRetireConnectionId(3, out _)?.Code); // never issued
        Assert.Null(state.OnRetireConnectionId(1, out byte[]? retired));
        Assert.NotNull(retired);
        Assert.Null(state.OnRetireConnectionId(1, out retired));
        Assert.Null(retired); // already retired: nothing to stop routing
        Assert.Equal(2, state.ActiveLocalIds.Count());
    }

    [Fact]
    public void APeerRetiringEveryIdItGetsCannotGrowTheList()
    {
        // Each retirement is answered with a new ID (RFC 9000 section 5.1.1); the retired ones are forgotten.
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        byte next = 0;
        state.Issue(4, () => [next++, 1, 2, 3], _ => Token, null);
        for (ulong sequence = 0; sequence < 10_000; sequence++)
        {
            Assert.Null(state.OnRetireConnectionId(sequence, out byte[]? retired));
            Assert.NotNull(retired);
            state.Issue(4, () => [next++, 1, 2, 3], _ => Token, null);
        }

        Assert.Equal(4, state.LocalRemembered);
        Assert.Equal(4, state.ActiveLocalIds.Count());
        Assert.Equal([1], state.FirstLocalId); // still the handshake's source ID
        Assert.Null(state.OnRetireConnectionId(5, out byte[]? again)); // retired long ago: nothing, no error
        Assert.Null(again);
    }

    [Fact]
    public void IssuedIdsAreAnnouncedAndAnnouncedAgainWhenLost()
    {
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        byte next = 10;
        var issued = new List<byte[]>();
        state.Issue(4, () => [next++, 0, 0, 0], _ => Token, issued.Add);
        Assert.Equal(3, issued.Count);

        List<SentFrame> frames = Write(state);
        Assert.Equal([1UL, 2UL, 3UL], frames.Where(f => f.Kind == SentFrameKind.NewConnectionId).Select(f => f.Id));
        Assert.False(state.HasFramesToSend);

        state.OnNewConnectionIdLost(2);
        Assert.Equal([2UL], Write(state).Select(f => f.Id));
    }

    [Fact]
    public void AMoveToASpareIdRetiresTheOldOne()
    {
        var state = new ConnectionIdState([1], Token, [9], activeLimit: 4);
        Assert.False(state.HasSpareId);
        Assert.Null(state.OnNewConnectionId(1, 0, Id(1), Token));
        Assert.True(state.HasSpareId);

        state.MoveToSpareId();
        Assert.Equal(Id(1), state.PeerCurrent);
        Assert.Equal([0UL], state.ToRetire);
        List<SentFrame> frames = Write(state);
        Assert.Equal(SentFrameKind.RetireConnectionId, Assert.Single(frames).Kind);
        state.OnRetirementLost(0);
        Assert.Equal([0UL], state.ToRetire); // owed again
    }

    [Fact]
    public void APeerUsingZeroLengthIdsCannotIssueMore()
    {
        var state = new ConnectionIdState([1], Token, [], activeLimit: 4);
        Assert.Equal(TransportErrorCode.ProtocolViolation, state.OnNewConnectionId(1, 0, Id(1), Token)?.Code);
    }

    private static byte[] Id(ulong sequence) => [.. BitConverter.GetBytes(sequence)];

    private static List<SentFrame> Write(ConnectionIdState state)
    {
        byte[] buffer = new byte[1200];
        var writer = new FrameWriter(buffer);
        var frames = new List<SentFrame>();
        state.WriteFrames(ref writer, frames);
        return frames;
    }
}
