using System.Net;
using System.Security.Cryptography;
using Mallard.Quic.Connections;

namespace Mallard.Quic.Tests.Connections;

public class AddressValidationTokensTests
{
    private static readonly SocketAddress Client = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 50_000).Serialize();
    private static readonly SocketAddress ClientNewPort = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 50_001).Serialize();
    private static readonly SocketAddress Stranger = new IPEndPoint(IPAddress.Parse("192.0.2.8"), 50_000).Serialize();

    [Fact]
    public void ARetryTokenIsBoundToAddressAndPortAndCarriesTheConnectionIds()
    {
        using var tokens = new AddressValidationTokens(RandomNumberGenerator.GetBytes(32));
        byte[] token = tokens.CreateRetryToken(Client, 1_000, [1, 2, 3, 4, 5, 6, 7, 8], [9, 9, 9, 9]);

        Assert.True(tokens.TryValidate(token, Client, 2_000, out byte[]? original, out byte[]? retrySource));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, original);
        Assert.Equal(new byte[] { 9, 9, 9, 9 }, retrySource);
        Assert.False(tokens.TryValidate(token, ClientNewPort, 2_000, out _, out _));
        Assert.False(tokens.TryValidate(token, Stranger, 2_000, out _, out _));
        Assert.False(tokens.TryValidate(token, Client, 1_000 + tokens.RetryLifetime + 1, out _, out _));
    }

    [Fact]
    public void ANewTokenFollowsTheClientToANewPortButNotToAnotherAddress()
    {
        // RFC 9000 section 8.1.3: the next connection usually comes from a new port.
        using var tokens = new AddressValidationTokens(RandomNumberGenerator.GetBytes(32));
        byte[] token = tokens.CreateNewToken(Client, 1_000);

        Assert.True(tokens.TryValidate(token, ClientNewPort, 5_000_000, out byte[]? original, out _));
        Assert.Null(original);
        Assert.False(tokens.TryValidate(token, Stranger, 5_000_000, out _, out _));
        Assert.False(tokens.TryValidate(token, Client, 1_000 + tokens.NewTokenLifetime + 1, out _, out _));
    }

    [Fact]
    public void TamperedForeignAndRandomTokensAreRejected()
    {
        using var tokens = new AddressValidationTokens(RandomNumberGenerator.GetBytes(32));
        using var foreign = new AddressValidationTokens(RandomNumberGenerator.GetBytes(32));
        byte[] token = tokens.CreateNewToken(Client, 1_000);

        byte[] relabelled = (byte[])token.Clone();
        relabelled[0] = 1; // claims to be a Retry token
        Assert.False(tokens.TryValidate(relabelled, Client, 2_000, out _, out _));
        Assert.False(foreign.TryValidate(token, Client, 2_000, out _, out _));
        for (int length = 0; length < token.Length; length++)
        {
            Assert.False(tokens.TryValidate(token.AsSpan(0, length), Client, 2_000, out _, out _));
        }

        var random = new Random(3);
        for (int i = 0; i < 2_000; i++)
        {
            byte[] noise = new byte[random.Next(0, 80)];
            random.NextBytes(noise);
            Assert.False(tokens.TryValidate(noise, Client, 2_000, out _, out _));
        }
    }
}
