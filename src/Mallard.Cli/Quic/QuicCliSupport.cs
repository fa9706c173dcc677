using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mallard.Cli.Quic;

/// <summary>What the QUIC commands (interop, siduck) share: certificates, the key log, addresses and stopping.</summary>
internal static class QuicCliSupport
{
    /// <summary>
    /// A self-signed ECDSA P-256 certificate for <paramref name="name"/> (valid from yesterday for
    /// 30 days), for servers Kestrel runs, which need one in hand (Mallard.Quic's listener makes its own).
    /// </summary>
    public static X509Certificate2 SelfSignedCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>Loads --cert/--key, or returns null so the listener makes a self-signed certificate.</summary>
    public static X509Certificate2? LoadServerCertificate(FileInfo? certificate, FileInfo? key)
    {
        if (certificate is null)
        {
            return key is null ? null : throw new CliException("--key needs --cert.");
        }

        if (key is null)
        {
            throw new CliException("--cert needs --key.");
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(certificate.FullName, key.FullName);
        }
        catch (Exception failure) when (failure is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--cert/--key: cannot load \"{certificate.FullName}\" with \"{key.FullName}\": {failure.Message}");
        }
    }

    /// <summary>Writes SSLKEYLOGFILE lines to the file the environment names, if any.</summary>
    public static Action<string>? KeyLogFromEnvironment()
    {
        string? path = Environment.GetEnvironmentVariable("SSLKEYLOGFILE");
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        var gate = new object();
        return line =>
        {
            lock (gate)
            {
                File.AppendAllText(path, line + "\n");
            }
        };
    }

    /// <summary>The qlog directory the interop runner convention names in QLOGDIR, if any.</summary>
    public static string? QlogDirectoryFromEnvironment() => Environment.GetEnvironmentVariable("QLOGDIR") is { Length: > 0 } directory ? directory : null;

    /// <summary>Makes sure a qlog directory can be written before any connection needs it.</summary>
    public static string? CheckQlogDirectory(string? directory)
    {
        if (directory is null)
        {
            return null;
        }

        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".mallard-write-check-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return directory;
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--qlog-dir \"{directory}\": cannot write there: {failure.Message}");
        }
    }

    /// <summary>Parses "address:port" for an option, naming the option when it is not one.</summary>
    public static IPEndPoint ParseEndPoint(string text, string option) =>
        IPEndPoint.TryParse(text, out IPEndPoint? address) ? address : throw new CliException($"{option} \"{text}\" is not an address:port.");

    /// <summary>A token cancelled by SIGTERM or Ctrl-C; dispose the result to stop listening for them.</summary>
    public static StopSignal OnTerminate() => new();

    /// <summary>Cancels its token on SIGTERM or SIGINT instead of letting the process die mid-write.</summary>
    internal sealed class StopSignal : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly PosixSignalRegistration _term;
        private readonly PosixSignalRegistration _interrupt;

        public StopSignal()
        {
            _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        }

        public CancellationToken Token => _stop.Token;

        public void Dispose()
        {
            _term.Dispose();
            _interrupt.Dispose();
            _stop.Dispose();
        }

        private void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            _stop.Cancel();
        }
    }
}
