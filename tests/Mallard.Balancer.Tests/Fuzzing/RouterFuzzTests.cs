using System.Net;
using Mallard.Balancer.Configuration;
using Mallard.Balancer.Routing;
using Mallard.Balancer.Tests.Routing;
using Mallard.Balancer.Tests.TestSupport;
using Mallard.QuicLb;
using Mallard.TestSupport;

namespace Mallard.Balancer.Tests.Fuzzing;

/// <summary>
/// In-process fuzzing of the balancer's router (see <see cref="FuzzInput"/> for long runs):
/// mutants of short and long headers carrying real QUIC-LB connection IDs of every config kind
/// (plaintext, four-pass, single-pass) and of Initials. Nothing throws, every datagram takes
/// exactly one counted branch, and a decision that is not a drop names a backend.
/// </summary>
public class RouterFuzzTests
{
    [Fact]
    public void MutatedQuicLbHeadersNeverThrowAndEveryDatagramIsCountedOnce()
    {
        int seed = FuzzInput.Seed(21);
        int iterations = FuzzInput.Iterations(200_000);
        BalancerSettings settings = TestSettings.FromFile("Routing/golden-balancer.json");
        PacketRouter router = PacketRouterGoldenTests.CreateRouter(settings);
        var corpus = new List<byte[]>();
        foreach ((int configId, int serverIdLength, string key, string serverId) in new[]
        {
            (0, 4, "", "41414141"),
            (1, 6, "abcdefabcdefabcdefabcdefabcdefab", "89abcdef0123"),
            (2, 8, "8f95f09245765f80256934e50c66207f", "1112131415161718"),
        })
        {
            var config = new QuicLbConfig(configId, serverIdLength, 8, Convert.FromHexString(key));
            var encoder = new ConnectionIdEncoder(config, Convert.FromHexString(serverId));
            for (int i = 0; i < 4; i++)
            {
                byte[] connectionId = encoder.Issue();
                corpus.Add(Packets.Short(connectionId));
                corpus.Add(Packets.Long(2, connectionId, [1, 2, 3, 4], 60));
                corpus.Add(Packets.Initial(connectionId, [5, 6, 7, 8]));
            }
        }

        var random = new Random(seed);
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = FuzzInput.Mutate(random, corpus);
            var client = EndpointKey.From(new IPEndPoint(IPAddress.Parse("192.0.2.1"), random.Next(1, 65_536)));
            try
            {
                RouteDecision decision = router.Route(input, client, i / 100);
                Assert.True(decision.IsDropped || decision.Backend is not null, "a decision without a backend");
            }
            catch (Exception error)
            {
                Assert.Fail(FuzzInput.Describe("router", seed, i, input, error));
            }
        }

        Assert.Equal(iterations, router.Counters.Branches.Sum());
        Assert.True(router.Counters.Branches[(int)RouteBranch.ConnectionId] > 0, "no mutant still routed by its connection ID");
    }
}
