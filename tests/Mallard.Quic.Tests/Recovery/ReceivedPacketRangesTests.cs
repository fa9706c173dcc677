using Mallard.Quic.Recovery;

namespace Mallard.Quic.Tests.Recovery;

public class ReceivedPacketRangesTests
{
    [Fact]
    public void RangesMergeAndStayLargestFirst()
    {
        var ranges = new ReceivedPacketRanges();
        foreach (ulong pn in new ulong[] { 5, 6, 8, 12, 7, 11, 0, 10, 9 })
        {
            Assert.True(ranges.Add(pn));
        }

        Assert.Equal([(5UL, 12UL), (0UL, 0UL)], ranges.Ranges);
        Assert.Equal(12UL, ranges.Largest);
        Assert.False(ranges.Add(7));
        Assert.True(ranges.Contains(0));
        Assert.False(ranges.Contains(3));
    }

    [Fact]
    public void WhatWasForgottenIsRefusedNotTakenAsNew()
    {
        var ranges = new ReceivedPacketRanges(maxRanges: 4);
        foreach (ulong pn in new ulong[] { 0, 2, 4, 6, 8, 10 })
        {
            Assert.True(ranges.Add(pn));
        }

        Assert.Equal(4, ranges.Ranges.Count);
        Assert.Equal(2UL, ranges.Floor);
        Assert.False(ranges.Add(0)); // a replay of a forgotten packet
        Assert.False(ranges.Add(1)); // older than anything remembered
        Assert.True(ranges.Contains(2));
        Assert.True(ranges.Add(3));
    }

    [Fact]
    public void RandomOrdersGiveTheSameRangesAsASortedScan()
    {
        var random = new Random(9002);
        for (int trial = 0; trial < 200; trial++)
        {
            ulong[] numbers = [.. Enumerable.Range(0, 60).Select(_ => (ulong)random.Next(0, 100)).Distinct()];
            var ranges = new ReceivedPacketRanges(maxRanges: 1000);
            foreach (ulong pn in numbers)
            {
                Assert.True(ranges.Add(pn));
            }

            var expected = new List<(ulong, ulong)>();
            foreach (ulong pn in numbers.OrderDescending())
            {
                if (expected.Count > 0 && expected[^1].Item1 == pn + 1)
                {
                    expected[^1] = (pn, expected[^1].Item2);
                }
                else
                {
                    expected.Add((pn, pn));
                }
            }

            Assert.Equal(expected, ranges.Ranges);
        }
    }

    [Fact]
    public void OnlyTheNewestRangesAreKept()
    {
        var ranges = new ReceivedPacketRanges(maxRanges: 3);
        foreach (ulong pn in new ulong[] { 0, 2, 4, 6, 8 })
        {
            ranges.Add(pn);
        }

        Assert.Equal([(8UL, 8UL), (6UL, 6UL), (4UL, 4UL)], ranges.Ranges);
    }
}
