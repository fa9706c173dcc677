using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mallard.Quic.Tests.TestSupport;
using Mallard.Quic.Tls;

namespace Mallard.Quic.Tests.Tls;

/// <summary>The default check of a server's certificate: trusted chain, server-authentication usage, and the name or address.</summary>
public class ServerCertificateValidatorTests
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private const string CodeSigning = "1.3.6.1.5.5.7.3.3";

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", false)]
    [InlineData("::1", false)]
    [InlineData("localhost", false)]
    public void AnAddressIsMatchedAgainstTheIpSans(string serverName, bool accepted)
    {
        using var ca = new TestCertificateAuthority();
        using X509Certificate2 leaf = ca.Issue(addresses: [IPAddress.Loopback]);

        Assert.Equal(accepted, ServerCertificateValidator.Validate(leaf, [leaf], serverName, ca.TrustOnlyThis(), out string reason));
        Assert.Equal(accepted, reason.Length == 0);
    }

    [Fact]
    public void ACertificateForANameDoesNotServeAnAddress()
    {
        using var ca = new TestCertificateAuthority();
        using X509Certificate2 leaf = ca.Issue(dnsNames: ["evil.example"]);

        Assert.True(ServerCertificateValidator.Validate(leaf, [leaf], "evil.example", ca.TrustOnlyThis(), out _));
        Assert.False(ServerCertificateValidator.Validate(leaf, [leaf], "127.0.0.1", ca.TrustOnlyThis(), out string reason));
        Assert.Contains("127.0.0.1", reason);
    }

    [Fact]
    public void WithoutANameNothingValidates()
    {
        using var ca = new TestCertificateAuthority();
        using X509Certificate2 leaf = ca.Issue(dnsNames: ["evil.example"]);

        Assert.False(ServerCertificateValidator.Validate(leaf, [leaf], null, ca.TrustOnlyThis(), out _));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(new[] { ServerAuth }, true)]
    [InlineData(new[] { ClientAuth, ServerAuth }, true)]
    [InlineData(new[] { ClientAuth }, false)]
    [InlineData(new[] { CodeSigning }, false)]
    public void TheExtendedKeyUsageMustAllowServerAuthentication(string[]? usages, bool accepted)
    {
        using var ca = new TestCertificateAuthority();
        using X509Certificate2 leaf = ca.Issue(dnsNames: ["server.example"], usages: usages);

        Assert.Equal(accepted, ServerCertificateValidator.Validate(leaf, [leaf], "server.example", ca.TrustOnlyThis(), out string reason));
        if (!accepted)
        {
            Assert.Contains("server authentication", reason);
        }
    }

    [Fact]
    public void AnUntrustedIssuerFails()
    {
        using var ca = new TestCertificateAuthority();
        using var other = new TestCertificateAuthority("Other CA");
        using X509Certificate2 leaf = ca.Issue(dnsNames: ["server.example"]);

        Assert.False(ServerCertificateValidator.Validate(leaf, [leaf], "server.example", other.TrustOnlyThis(), out _));
    }
}
