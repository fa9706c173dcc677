using CsCheck;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

/// <summary>Property tests (CsCheck) of the ClientHello codec: any well-formed hello round-trips; any bytes parse or are refused with an alert.</summary>
public class ClientHelloPropertyTests
{
    [Fact]
    public void AnyWellFormedClientHelloRoundTrips()
    {
        Gen<TlsExtension[]> extensions = Gen.Select(Gen.UShort, Gen.Byte.Array[0, 64]).Array[0, 20]
            .Select(list => list.DistinctBy(e => e.Item1).Select(e => new TlsExtension(e.Item1, e.Item2)).ToArray());
        Gen.Select(Gen.Byte.Array[32], Gen.Byte.Array[0, 32], Gen.UShort.Array[1, 20], extensions).Sample((random, session, suites, written) =>
        {
            var hello = new ClientHello { Random = random, LegacySessionId = session, CipherSuites = suites, Extensions = written };
            ClientHello? read = ClientHello.TryParse(hello.Encode(), out _);
            return read is not null && read.Random.SequenceEqual(random) && read.LegacySessionId.SequenceEqual(session)
                && read.CipherSuites.SequenceEqual(suites) && read.Extensions.Count == written.Length
                && read.Extensions.Zip(written).All(p => p.First.Type == p.Second.Type && p.First.Data.SequenceEqual(p.Second.Data));
        }, seed: "0wXy7gBp8Yc6");
    }

    [Fact]
    public void AnyBytesParseOrAreRefusedWithAnAlert()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            // A handshake header that claims the rest, so the body's parser is what is tested.
            if (bytes.Length >= 4)
            {
                bytes[0] = 1;
                bytes[1] = 0;
                bytes[2] = (byte)((bytes.Length - 4) >> 8);
                bytes[3] = (byte)(bytes.Length - 4);
            }

            return ClientHello.TryParse(bytes, out TlsAlert alert) is not null || alert != 0;
        }, iter: 20_000, seed: "1yZa9hCq0Zd8");
    }
}
