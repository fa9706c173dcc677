using System.Text.Json.Serialization;
using Mallard.Cli.Cid;

namespace Mallard.Cli;

/// <summary>Source-generated JSON serialization for the command line's output (camelCase, compact).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DecodedConnectionId))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
}
