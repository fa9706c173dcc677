using System.Text.Json.Serialization;

namespace Mallard.Steering;

/// <summary>Source-generated JSON for <see cref="SteeringStatus"/> (no reflection at run time).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SteeringStatus))]
internal sealed partial class SteeringJsonContext : JsonSerializerContext;
