using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mallard.Quic.Tls;

/// <summary>
/// The default check of a server's certificate chain, as a TLS client performs it: the chain
/// builds to a trusted root (RFC 5280 section 6), every certificate that restricts its use allows
/// server authentication (id-kp-serverAuth, RFC 5280 section 4.2.1.12), and the end-entity
/// certificate names the server (RFC 6125; RFC 9110 section 4.3.4): a DNS name against its DNS
/// SANs, an IP address against its IP SANs. There is always a name to check: a client that
/// connects by address checks the address.
/// </summary>
/// <remarks>
/// Revocation is not checked unless the caller's chain policy asks for it: a QUIC client often
/// has no route to the CA's OCSP responder or CRL, and an online check would add a round trip
/// per handshake (Go's crypto/tls, and so quic-go, do not check either).
/// </remarks>
internal static class ServerCertificateValidator
{
    /// <summary>id-kp-serverAuth.</summary>
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>Validates <paramref name="leaf"/> for <paramref name="serverName"/>; on failure <paramref name="reason"/> says why.</summary>
    public static bool Validate(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> presented, string? serverName, X509ChainPolicy? policy, out string reason)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            reason = "there is no server name or address to check the certificate against";
            return false;
        }

        if (!AllowsServerAuthentication(leaf))
        {
            reason = "the certificate's extended key usage does not allow server authentication";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy = policy?.Clone() ?? new X509ChainPolicy { RevocationMode = X509RevocationMode.NoCheck };
        if (!chain.ChainPolicy.ApplicationPolicy.Cast<Oid>().Any(o => o.Value == ServerAuthentication))
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthentication));
        }

        for (int i = 1; i < presented.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(presented[i]);
        }

        if (!chain.Build(leaf))
        {
            reason = "the chain does not validate: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            return false;
        }

        // An address is matched against IP SANs only; a name against DNS SANs (and the subject's
        // common name only when the certificate has no DNS SAN, as RFC 6125 section 6.4.4 allows).
        bool matches = IPAddress.TryParse(serverName.Trim('[', ']'), out IPAddress? address)
            ? MatchesAddress(leaf, address)
            : leaf.MatchesHostname(serverName);
        reason = matches ? "" : $"the certificate is not for {serverName}";
        return matches;
    }

    /// <summary>Whether a certificate without an EKU extension, or with one that lists serverAuth, may authenticate a server.</summary>
    public static bool AllowsServerAuthentication(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage)
            {
                return usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ServerAuthentication);
            }
        }

        return true;
    }

    private static bool MatchesAddress(X509Certificate2 leaf, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (X509Extension extension in leaf.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension names)
            {
                return names.EnumerateIPAddresses().Any(a => a.Equals(address));
            }
        }

        return false;
    }
}
