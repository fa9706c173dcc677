namespace Mallard.Cli.Cid;

/// <summary>The JSON shape <c>mallard cid decode --json</c> prints.</summary>
internal sealed record DecodedConnectionId(int ConfigId, string ServerId, string Nonce);
