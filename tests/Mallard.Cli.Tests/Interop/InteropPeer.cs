namespace Mallard.Cli.Tests.Interop;

/// <summary>Which implementation plays a role in an interop run.</summary>
public enum InteropPeer
{
    Mallard,
    QuicGo,

    /// <summary>ngtcp2 0.12's HTTP/3 examples from Debian (gtlsclient, gtlsserver): the http3 case only.</summary>
    Ngtcp2,
}
