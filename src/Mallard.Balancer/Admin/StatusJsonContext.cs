using System.Text.Json.Serialization;

namespace Mallard.Balancer.Admin;

/// <summary>Source-generated JSON for <c>/status</c>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BalancerStatus))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
