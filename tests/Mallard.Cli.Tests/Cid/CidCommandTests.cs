using System.Text.Json;

namespace Mallard.Cli.Tests.Cid;

public class CidCommandTests
{
    private const string VectorKey = "8f95f09245765f80256934e50c66207f";

    [Theory]
    [InlineData("0", "3", "4", null, "c4605e", "4504cc4f", "07c4605e4504cc4f")]
    [InlineData("0", "3", "4", VectorKey, "ed793a", "ee080dbf", "0720b1d07b359d3c")]
    [InlineData("1", "10", "5", VectorKey, "ed793a51d49b8f5fab65", "ee080dbf48", "2fcc381bc74cb4fbad2823a3d1f8fed2")]
    [InlineData("2", "8", "8", VectorKey, "ed793a51d49b8f5f", "ee080dbf48c0d1e5", "504dd2d05a7b0de9b2b9907afb5ecf8cc3")]
    public void EncodesAndDecodesTheDraftVectors(string configId, string sidLen, string nonceLen, string? key, string serverId, string nonce, string cid)
    {
        string[] config = key is null
            ? ["--config-id", configId, "--sid-len", sidLen, "--nonce-len", nonceLen]
            : ["--config-id", configId, "--sid-len", sidLen, "--nonce-len", nonceLen, "--key", key];

        CliRun encode = CliRun.Of(["cid", "encode", .. config, "--encode-length", "--server-id", serverId, "--nonce", nonce]);
        CliRun decode = CliRun.Of(["cid", "decode", .. config, "--json", cid]);

        Assert.Equal(0, encode.ExitCode);
        Assert.Equal(cid + Environment.NewLine, encode.Output);
        Assert.Equal(0, decode.ExitCode);
        Assert.Equal($"{{\"configId\":{configId},\"serverId\":\"{serverId}\",\"nonce\":\"{nonce}\"}}{Environment.NewLine}", decode.Output);
        Assert.Empty(decode.Error);
    }

    [Fact]
    public void PlainDecodeOutputNamesEachField()
    {
        CliRun run = CliRun.Of("cid", "decode", "--sid-len", "3", "--nonce-len", "4", "07c4605e4504cc4f");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["config-id 0", "server-id c4605e", "nonce 4504cc4f"], run.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void EncodeWithoutANonceIssuesAFreshRoutableConnectionId()
    {
        string[] config = ["--config-id", "4", "--sid-len", "4", "--nonce-len", "6", "--key", VectorKey];

        CliRun first = CliRun.Of(["cid", "encode", .. config, "--server-id", "41414141"]);
        CliRun second = CliRun.Of(["cid", "encode", .. config, "--server-id", "41414141"]);
        CliRun decoded = CliRun.Of(["cid", "decode", .. config, "--json", first.Output.Trim()]);

        Assert.NotEqual(first.Output, second.Output);
        Assert.Equal(22, first.Output.Trim().Length);
        Assert.Equal("41414141", JsonDocument.Parse(decoded.Output).RootElement.GetProperty("serverId").GetString());
    }

    [Theory]
    [InlineData("e7c4605e4504cc4f", "mallard: unroutable: the config rotation bits are 0b111 (the server had no QUIC-LB configuration).")]
    [InlineData("07c4605e", "mallard: unroutable: the connection ID is 4 octets; config 0 needs 8.")]
    [InlineData("07c4605e4504cc4", "mallard: connection ID \"07c4605e4504cc4\" is not an even number of hex digits.")]
    [InlineData("xyz0", "mallard: connection ID \"xyz0\" is not an even number of hex digits.")]
    [InlineData("07000000000000000000000000000000000000000000", "mallard: connection ID is 22 octets; QUIC v1 connection IDs are at most 20.")]
    public void UnroutableOrMalformedInputExitsWithTwoAndOneLine(string cid, string message)
    {
        CliRun run = CliRun.Of("cid", "decode", "--sid-len", "3", "--nonce-len", "4", cid);

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Output);
        Assert.Equal(message + Environment.NewLine, run.Error);
    }

    [Fact]
    public void AConfigIdWithNoConfigurationIsUnroutable()
    {
        CliRun run = CliRun.Of("cid", "decode", "--config-id", "1", "--sid-len", "3", "--nonce-len", "4", "07c4605e4504cc4f");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("mallard: unroutable: config ID 0 has no configuration (loaded: 1)." + Environment.NewLine, run.Error);
    }

    [Theory]
    [InlineData(new[] { "--config-id", "7", "--sid-len", "3", "--nonce-len", "4" }, "mallard: --config-id: configId 7 (0b111) is reserved for unroutable connection IDs; use 0 to 6.")]
    [InlineData(new[] { "--config-id", "0", "--sid-len", "16", "--nonce-len", "4" }, "mallard: --sid-len: serverIdLength is 16; it must be 1 to 15 octets.")]
    [InlineData(new[] { "--config-id", "0", "--sid-len", "3", "--nonce-len", "3" }, "mallard: --nonce-len: nonceLength is 3; it must be 4 to 18 octets.")]
    [InlineData(new[] { "--config-id", "0", "--sid-len", "3", "--nonce-len", "4", "--key", "abcd" }, "mallard: --key: \"abcd\" is not an AES-128 key; write exactly 32 hex digits, or leave it out for plaintext connection IDs.")]
    [InlineData(new[] { "--sid-len", "3", "--nonce-len", "4" }, "mallard: --config-id is required (0 to 6), or give --config FILE.")]
    [InlineData(new[] { "--config-id", "0", "--nonce-len", "4" }, "mallard: --sid-len is required (1 to 15), or give --config FILE.")]
    public void BadConfigurationOptionsExitWithOneAndNameTheOption(string[] config, string message)
    {
        CliRun run = CliRun.Of(["cid", "encode", .. config, "--server-id", "010203"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(message + Environment.NewLine, run.Error);
    }

    [Fact]
    public void ServerIdAndNonceMustMatchTheConfiguredLengths()
    {
        string[] config = ["cid", "encode", "--config-id", "0", "--sid-len", "3", "--nonce-len", "4"];

        Assert.Equal("mallard: --server-id is 2 octets; config 0 needs exactly 3." + Environment.NewLine, CliRun.Of([.. config, "--server-id", "0102"]).Error);
        Assert.Equal("mallard: --nonce is 5 octets; config 0 needs exactly 4." + Environment.NewLine, CliRun.Of([.. config, "--server-id", "010203", "--nonce", "0102030405"]).Error);
    }

    [Fact]
    public void ReadsSeveralConfigurationsFromTheExampleFile()
    {
        string file = Path.Combine(CliRun.RepositoryRoot, "examples", "quic-lb.json");

        foreach ((string configId, string serverId) in new[] { ("0", "41414141"), ("1", "89abcdef0123"), ("2", "0102030405060708") })
        {
            CliRun encode = CliRun.Of("cid", "encode", "--config", file, "--config-id", configId, "--server-id", serverId);
            CliRun decode = CliRun.Of("cid", "decode", "--config", file, "--json", encode.Output.Trim());

            Assert.Equal(0, encode.ExitCode);
            Assert.Equal(0, decode.ExitCode);
            JsonElement json = JsonDocument.Parse(decode.Output).RootElement;
            Assert.Equal(int.Parse(configId, System.Globalization.CultureInfo.InvariantCulture), json.GetProperty("configId").GetInt32());
            Assert.Equal(serverId, json.GetProperty("serverId").GetString());
        }
    }

    [Fact]
    public void AFileWithSeveralConfigurationsNeedsAConfigIdToEncode()
    {
        string file = Path.Combine(CliRun.RepositoryRoot, "examples", "quic-lb.json");

        CliRun run = CliRun.Of("cid", "encode", "--config", file, "--server-id", "41414141");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("mallard: the file holds 3 configurations; choose one with --config-id (0, 1, 2)." + Environment.NewLine, run.Error);
    }

    [Fact]
    public void AFileAndInlineLengthsTogetherAreRefused()
    {
        string file = Path.Combine(CliRun.RepositoryRoot, "examples", "quic-lb.json");

        CliRun run = CliRun.Of("cid", "decode", "--config", file, "--sid-len", "3", "07c4605e4504cc4f");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("mallard: give either --config FILE or --sid-len/--nonce-len/--key, not both." + Environment.NewLine, run.Error);
    }
}
