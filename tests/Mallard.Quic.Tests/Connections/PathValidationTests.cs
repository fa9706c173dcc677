using System.Net;
using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class PathValidationTests
{
    private static readonly SocketAddress First = new IPEndPoint(IPAddress.Loopback, 1_000).Serialize();
    private static readonly SocketAddress Moved = new IPEndPoint(IPAddress.Loopback, 2_000).Serialize();

    [Fact]
    public void OnlyTheOutstandingChallengesDataValidatesThePath()
    {
        var validation = new PathValidation();
        validation.RememberIfFirst(First);
        validation.Start();
        byte[] challenge = validation.Challenge!;
        Assert.Equal(PathValidation.ChallengeLength, challenge.Length);

        byte[] wrong = (byte[])challenge.Clone();
        wrong[0] ^= 1;
        Assert.False(validation.TryComplete(wrong, Moved));
        Assert.True(validation.Pending);
        Assert.Equal(First, validation.Validated);

        Assert.True(validation.TryComplete(challenge, Moved));
        Assert.False(validation.Pending);
        Assert.Equal(Moved, validation.Validated);
        Assert.Equal(1, validation.Validations);
        Assert.False(validation.TryComplete(challenge, First)); // answered once; a replay validates nothing
    }

    [Fact]
    public void EachValidationHasFreshDataAndAStoppedOneIsForgotten()
    {
        var validation = new PathValidation();
        validation.Start();
        byte[] first = validation.Challenge!;
        validation.Start();
        Assert.NotEqual(first, validation.Challenge);
        validation.Stop();
        Assert.False(validation.Pending);
        Assert.Null(validation.Validated);

        validation.RememberIfFirst(First);
        validation.RememberIfFirst(Moved); // only the first address is remembered this way
        Assert.Equal(First, validation.Validated);
    }
}
