using System.Net;

namespace Mallard.Quic.Transport;

/// <summary>The server's preferred_address transport parameter (RFC 9000 section 18.2).</summary>
/// <param name="IPv4">The IPv4 address and port; 0.0.0.0:0 when absent.</param>
/// <param name="IPv6">The IPv6 address and port; [::]:0 when absent.</param>
/// <param name="ConnectionId">The connection ID to use on the new address (1 to 20 octets).</param>
/// <param name="StatelessResetToken">Its 16-octet stateless reset token.</param>
internal sealed record PreferredAddress(IPEndPoint IPv4, IPEndPoint IPv6, byte[] ConnectionId, byte[] StatelessResetToken);
