using System.Net;
using Mallard.DatagramBench;

// The Mallard side of bench/datagram-vs-quicgo.sh; bench/datagram-go/main.go is the quic-go side
// and speaks the same protocol (see BenchProtocol).
//   server ADDR
//   client ADDR [PINGS=1000] [SECONDS=5] [WINDOW=64] [MEGABYTES=50]
//   soak BALANCER SERVER [SECONDS=600] [FLOOD=1000000]   (bench/soak.sh)
//   handshakes ADDR [COUNT=200] [PARALLEL=16]
//   resumption ADDR [COUNT=200] [PARALLEL=16] [ROUNDS=3]   (full against resumed handshakes)
//   scale ADDR [CONNECTIONS=1000] [INTERVAL_MS=100] [SECONDS=10] [MARK_DIR]   (bench/scale.sh's load from Mallard.Quic)
//   firstanswer ADDR [COUNT=100]   (dialling to a first answer: full, resumed, 0-RTT; bench/zerortt.sh)
if (args.Length < 2 || !IPEndPoint.TryParse(args[1], out IPEndPoint? address))
{
    Console.Error.WriteLine("usage: Mallard.DatagramBench server|client ADDR [PINGS SECONDS WINDOW MEGABYTES]");
    return 2;
}

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;

if (args[0] == "soak")
{
    if (args.Length < 3 || !IPEndPoint.TryParse(args[2], out IPEndPoint? server))
    {
        Console.Error.WriteLine("usage: Mallard.DatagramBench soak BALANCER SERVER [SECONDS FLOOD]");
        return 2;
    }

    Console.WriteLine(await SoakRun.RunAsync(address, server, Arg(3, 600), args.Length > 4 ? long.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000));
    return 0;
}

if (args[0] == "resumption")
{
    Console.WriteLine(await HandshakeRun.ResumptionAsync(address, Arg(2, 200), Arg(3, 16), Arg(4, 3)));
    return 0;
}

if (args[0] == "scale")
{
    Console.WriteLine(await ScaleRun.RunAsync(address, Arg(2, 1000), TimeSpan.FromMilliseconds(Arg(3, 100)), Arg(4, 10), args.Length > 5 ? args[5] : null));
    return 0;
}

if (args[0] == "firstanswer")
{
    Console.WriteLine(await FirstAnswerRun.RunAsync(address, Arg(2, 100)));
    return 0;
}

if (args[0] == "handshakes")
{
    Console.WriteLine(await HandshakeRun.RunAsync(address, Arg(2, 200), Arg(3, 16)));
    return 0;
}

if (args[0] == "server")
{
    await BenchServer.RunAsync(address);
    return 0;
}

BenchResult result = await BenchClient.RunAsync(address, pings: Arg(2, 1000), seconds: Arg(3, 5), window: Arg(4, 64), megabytes: Arg(5, 50));
Console.WriteLine(result);
return 0;
