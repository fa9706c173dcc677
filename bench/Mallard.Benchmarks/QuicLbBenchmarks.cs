using BenchmarkDotNet.Attributes;
using Mallard.QuicLb;

namespace Mallard.Benchmarks;

/// <summary>
/// QUIC-LB encode and decode per connection ID, beside a baseline that calls the system AES once
/// per block. Decode is what a balancer does per packet.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 12)]
public class QuicLbBenchmarks
{
    private static readonly byte[] Key = Convert.FromHexString("8f95f09245765f80256934e50c66207f");

    private readonly byte[] _output = new byte[20];
    private readonly byte[] _serverId = new byte[16];
    private ConnectionIdDecoder _decoder = null!;
    private ConnectionIdEncoder _plaintext = null!;
    private ConnectionIdEncoder _singlePass = null!;
    private ConnectionIdEncoder _fourPassShortId = null!;
    private ConnectionIdEncoder _fourPassLongId = null!;
    private byte[] _plaintextCid = null!;
    private byte[] _singlePassCid = null!;
    private byte[] _threePassCid = null!;
    private byte[] _fourPassCid = null!;
    private byte[] _exactPlaintextCid = null!;
    private byte[] _nonce8 = null!;
    private byte[] _nonce5 = null!;
    private SystemAesFourPassDecoder _baselineSinglePass = null!;
    private SystemAesFourPassDecoder _baselineThreePass = null!;
    private SystemAesFourPassDecoder _baselineFourPass = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Plaintext 4+8; single pass 8+8; four-pass 4+8 (server ID in the left half: three
        // passes to decode); four-pass 10+5 (server ID crosses the middle: four passes).
        var plaintext = new QuicLbConfig(0, 4, 8);
        var singlePass = new QuicLbConfig(1, 8, 8, Key);
        var shortId = new QuicLbConfig(2, 4, 8, Key);
        var longId = new QuicLbConfig(3, 10, 5, Key);
        _decoder = new ConnectionIdDecoder([plaintext, singlePass, shortId, longId]);
        _plaintext = new ConnectionIdEncoder(plaintext, [0x41, 0x41, 0x41, 0x41]);
        _singlePass = new ConnectionIdEncoder(singlePass, [1, 2, 3, 4, 5, 6, 7, 8]);
        _fourPassShortId = new ConnectionIdEncoder(shortId, [0x42, 0x42, 0x42, 0x42]);
        _fourPassLongId = new ConnectionIdEncoder(longId, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        // A balancer decodes straight out of the datagram: the connection ID is followed by the
        // rest of a short-header packet, so whole-vector loads never run off the end.
        _plaintextCid = InPacket(_plaintext);
        _singlePassCid = InPacket(_singlePass);
        _threePassCid = InPacket(_fourPassShortId);
        _fourPassCid = InPacket(_fourPassLongId);
        _exactPlaintextCid = _plaintext.Issue();
        _nonce8 = [9, 8, 7, 6, 5, 4, 3, 2];
        _nonce5 = [9, 8, 7, 6, 5];
        _baselineSinglePass = new SystemAesFourPassDecoder(Key, 8, 8);
        _baselineThreePass = new SystemAesFourPassDecoder(Key, 4, 8);
        _baselineFourPass = new SystemAesFourPassDecoder(Key, 10, 5);
    }

    [Benchmark]
    public ServerId DecodePlaintext() => _decoder.Decode(_plaintextCid).ServerId;

    [Benchmark]
    public ServerId DecodePlaintextExactLengthSpan() => _decoder.Decode(_exactPlaintextCid).ServerId;

    [Benchmark]
    public ServerId DecodeSinglePass() => _decoder.Decode(_singlePassCid).ServerId;

    [Benchmark]
    public ServerId DecodeFourPassThreePassDecode() => _decoder.Decode(_threePassCid).ServerId;

    [Benchmark]
    public ServerId DecodeFourPassFourPassDecode() => _decoder.Decode(_fourPassCid).ServerId;

    [Benchmark]
    public byte BaselineSystemAesSinglePass()
    {
        _baselineSinglePass.DecodeServerId(_singlePassCid, _serverId);
        return _serverId[0];
    }

    [Benchmark]
    public byte BaselineSystemAesThreePassDecode()
    {
        _baselineThreePass.DecodeServerId(_threePassCid, _serverId);
        return _serverId[0];
    }

    [Benchmark]
    public byte BaselineSystemAesFourPassDecode()
    {
        _baselineFourPass.DecodeServerId(_fourPassCid, _serverId);
        return _serverId[0];
    }

    private static byte[] InPacket(ConnectionIdEncoder encoder)
    {
        var packet = new byte[64];
        encoder.Issue(packet);
        return packet;
    }

    [Benchmark]
    public int EncodePlaintext() => _plaintext.Encode(_nonce8, _output);

    [Benchmark]
    public int EncodeSinglePass() => _singlePass.Encode(_nonce8, _output);

    [Benchmark]
    public int EncodeFourPass() => _fourPassLongId.Encode(_nonce5, _output);

    [Benchmark]
    public int IssueFourPassWithCounter() => _fourPassShortId.Issue(_output);
}
