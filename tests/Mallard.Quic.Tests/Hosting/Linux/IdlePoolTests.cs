using Mallard.Quic.Hosting.Linux;

namespace Mallard.Quic.Tests.Hosting.Linux;

public class IdlePoolTests
{
    [Fact]
    public void KeepsUpToItsLimitAndHandsBackTheOldestBeyondIt()
    {
        var pool = new IdlePool<object>(2);
        object oldest = new(), middle = new(), newest = new();
        Assert.Null(pool.Keep(oldest));
        Assert.Null(pool.Keep(middle));
        Assert.Same(oldest, pool.Keep(newest)); // the caller disposes this one
        Assert.Equal(2, pool.Count);
        Assert.Same(newest, pool.TryTake(0, static (_, _) => true));
        Assert.Same(middle, pool.TryTake(0, static (_, _) => true));
    }

    [Fact]
    public void HandsOutTheMostRecentObjectThatFitsAndNothingThatDoesNot()
    {
        var pool = new IdlePool<int[]>(4);
        int[] small = new int[1], olderLarge = new int[8], newerLarge = new int[8];
        pool.Keep(olderLarge);
        pool.Keep(small);
        pool.Keep(newerLarge);

        Assert.Same(newerLarge, pool.TryTake(8, static (array, length) => array.Length == length));
        Assert.Same(olderLarge, pool.TryTake(8, static (array, length) => array.Length == length));
        Assert.Null(pool.TryTake(8, static (array, length) => array.Length == length));
        Assert.Null(pool.TryTake(3, static (array, length) => array.Length == length));
        Assert.Same(small, pool.TryTake(1, static (array, length) => array.Length == length));
        Assert.Equal(0, pool.Count);
    }
}
