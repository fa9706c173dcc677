using System.Globalization;
using System.Net;
using Mallard.UdpLoad;

// udpload: the bounded UDP load of bench/lb-vs-nginx.sh.
//   udpload echo ADDRESS                    echo every datagram back (the backend)
//   udpload load TARGET FLOWS SECONDS SIZE  request/response over FLOWS client sockets
//   udpload pace TARGET RATE SECONDS SIZE   RATE numbered datagrams per second, open loop: round-trip percentiles and losses
//   udpload delay LISTEN TARGET MILLISECONDS  relay to TARGET, holding every datagram that long each way (bench/zerortt.sh)
if (args.Length >= 2 && args[0] == "echo")
{
    EchoServer.Run(IPEndPoint.Parse(args[1]));
    return 0;
}

if (args.Length == 5 && args[0] == "load")
{
    LoadResult result = LoadGenerator.Run(
        IPEndPoint.Parse(args[1]),
        int.Parse(args[2], CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture)),
        int.Parse(args[4], CultureInfo.InvariantCulture));
    Console.WriteLine(result.ToString());
    return result.Responses > 0 ? 0 : 1;
}

if (args.Length == 5 && args[0] == "pace")
{
    Console.WriteLine(PacedProbe.Run(
        IPEndPoint.Parse(args[1]),
        int.Parse(args[2], CultureInfo.InvariantCulture),
        TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture)),
        int.Parse(args[4], CultureInfo.InvariantCulture)));
    return 0;
}

if (args.Length == 4 && args[0] == "delay")
{
    DelayRelay.Run(IPEndPoint.Parse(args[1]), IPEndPoint.Parse(args[2]), TimeSpan.FromMilliseconds(double.Parse(args[3], CultureInfo.InvariantCulture)));
    return 0;
}

Console.Error.WriteLine("usage: udpload echo ADDRESS | udpload load TARGET FLOWS SECONDS SIZE | udpload pace TARGET RATE SECONDS SIZE | udpload delay LISTEN TARGET MILLISECONDS");
return 2;
