using Mallard.Quic.Congestion;

namespace Mallard.Quic.Tests.Congestion;

/// <summary>The pacer of RFC 9002 section 7.7 in virtual time (microseconds).</summary>
public class PacerTests
{
    private const long Mss = 1200;

    [Fact]
    public void TheInitialWindowGoesAtOnceThenPacketsAreSpreadAtFiveQuartersOfTheWindowPerRtt()
    {
        var pacer = new Pacer(12_000);
        const long window = 120_000;
        const long rtt = 10_000; // 1.25 × 120,000 / 10 ms = 15,000 octets per ms

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(0, pacer.Delay(0, Mss, window, rtt, Mss));
            pacer.OnPacketSent(Mss);
        }

        long delay = pacer.Delay(0, Mss, window, rtt, Mss);
        Assert.Equal(80, delay); // 1200 octets at 15 octets/µs

        // Over a whole RTT the pacer lets through 1.25 windows, give or take one packet.
        long now = 0;
        long sent = 0;
        while (now < rtt)
        {
            long wait = pacer.Delay(now, Mss, window, rtt, Mss);
            if (wait > 0)
            {
                now += wait;
                continue;
            }

            pacer.OnPacketSent(Mss);
            sent += Mss;
        }

        Assert.InRange(sent, (window * 5 / 4) - Mss, (window * 5 / 4) + Mss);
    }

    [Fact]
    public void ASenderThatAsksEveryMicrosecondStillEarnsTheFullRate()
    {
        // 12,000 octets per 20 ms × 5/4 is 0.75 octets per microsecond: no single call earns an octet.
        var pacer = new Pacer(0);
        long sent = 0;
        for (long now = 0; now < 20_000; now++)
        {
            if (pacer.Delay(now, Mss, 12_000, 20_000, Mss) == 0)
            {
                pacer.OnPacketSent(Mss);
                sent += Mss;
            }
        }

        Assert.InRange(sent, 15_000 - Mss, 15_000);
    }

    [Fact]
    public void AnIdleSenderBanksAtMostOneTickOrTenDatagrams()
    {
        var pacer = new Pacer(12_000);
        pacer.OnPacketSent(12_000);

        // A large window over a short RTT: one millisecond is worth 125 datagrams.
        pacer.Delay(0, Mss, 12_000_000, 100_000, Mss);
        pacer.Delay(10_000_000, Mss, 12_000_000, 100_000, Mss);
        Assert.Equal(12_000_000 * 5 / 4 * Pacer.Tick / 100_000, pacer.Tokens);

        // A small window: never less than ten datagrams.
        pacer.Delay(20_000_000, Mss, 2 * Mss, 100_000, Mss);
        Assert.Equal(Pacer.MinimumBurstDatagrams * Mss, pacer.Tokens);
    }
}
