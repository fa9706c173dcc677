using CsCheck;
using Mallard.Quic.Transport;

namespace Mallard.Quic.Tests.Transport;

/// <summary>Property tests (CsCheck) of transport parameters: every valid set round-trips, and any bytes decode or are refused with a reason.</summary>
public class TransportParametersPropertyTests
{
    [Fact]
    public void EveryValidSetRoundTrips()
    {
        Gen<ulong> limit = Gen.OneOf(Gen.ULong[0, 1000], Gen.ULong[0, 1UL << 62 - 1]);
        Gen<TransportParameters> parameters =
            from idle in limit
            from payload in Gen.ULong[1200, 65_527]
            from data in limit
            from bidiLocal in limit
            from bidiRemote in limit
            from uni in limit
            from streamsBidi in Gen.ULong[0, 1UL << 60]
            from streamsUni in Gen.ULong[0, 1UL << 60]
            from exponent in Gen.ULong[0, 20]
            from ackDelay in Gen.ULong[0, (1UL << 14) - 1]
            from migration in Gen.Bool
            from cidLimit in Gen.ULong[2, 1000]
            from source in Gen.Byte.Array[0, 20]
            from original in Gen.Byte.Array[0, 20]
            from token in Gen.Byte.Array[16]
            from datagrams in Gen.ULong[0, 65_535].Nullable()
            select new TransportParameters
            {
                MaxIdleTimeout = idle,
                MaxUdpPayloadSize = payload,
                InitialMaxData = data,
                InitialMaxStreamDataBidiLocal = bidiLocal,
                InitialMaxStreamDataBidiRemote = bidiRemote,
                InitialMaxStreamDataUni = uni,
                InitialMaxStreamsBidi = streamsBidi,
                InitialMaxStreamsUni = streamsUni,
                AckDelayExponent = exponent,
                MaxAckDelay = ackDelay,
                DisableActiveMigration = migration,
                ActiveConnectionIdLimit = cidLimit,
                InitialSourceConnectionId = source,
                OriginalDestinationConnectionId = original,
                StatelessResetToken = token,
                MaxDatagramFrameSize = datagrams,
            };

        parameters.Sample(written =>
        {
            TransportParameters? read = TransportParameters.TryDecode(written.Encode(), fromServer: true, out string? error);
            return read is not null
                && read.MaxIdleTimeout == written.MaxIdleTimeout && read.MaxUdpPayloadSize == written.MaxUdpPayloadSize
                && read.InitialMaxData == written.InitialMaxData && read.InitialMaxStreamDataBidiLocal == written.InitialMaxStreamDataBidiLocal
                && read.InitialMaxStreamDataBidiRemote == written.InitialMaxStreamDataBidiRemote && read.InitialMaxStreamDataUni == written.InitialMaxStreamDataUni
                && read.InitialMaxStreamsBidi == written.InitialMaxStreamsBidi && read.InitialMaxStreamsUni == written.InitialMaxStreamsUni
                && read.AckDelayExponent == written.AckDelayExponent && read.MaxAckDelay == written.MaxAckDelay
                && read.DisableActiveMigration == written.DisableActiveMigration && read.ActiveConnectionIdLimit == written.ActiveConnectionIdLimit
                && read.InitialSourceConnectionId.AsSpan().SequenceEqual(written.InitialSourceConnectionId)
                && read.OriginalDestinationConnectionId.AsSpan().SequenceEqual(written.OriginalDestinationConnectionId)
                && read.StatelessResetToken.AsSpan().SequenceEqual(written.StatelessResetToken)
                && read.MaxDatagramFrameSize == written.MaxDatagramFrameSize;
        }, seed: "2a6hH0yQv3K1");
    }

    [Fact]
    public void AnyBytesDecodeOrAreRefusedWithAReason()
    {
        Gen.Select(Gen.Byte.Array[0, 120], Gen.Bool).Sample((bytes, fromServer) =>
        {
            TransportParameters? read = TransportParameters.TryDecode(bytes, fromServer, out string? error);
            return read is not null || !string.IsNullOrEmpty(error);
        }, iter: 20_000, seed: "6vLr0Wq1zXe3");
    }
}
