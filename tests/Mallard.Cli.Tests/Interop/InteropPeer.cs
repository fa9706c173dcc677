namespace Mallard.Cli.Tests.Interop;

/// <summary>Which implementation plays a role in an interop run.</summary>
public enum InteropPeer
{
    Mallard,
    QuicGo,
}
