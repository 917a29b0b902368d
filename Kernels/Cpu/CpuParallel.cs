using System.Buffers;

namespace ILGpuSat.Kernels.Cpu;

/// <summary>
/// Work splitting for the CPU kernels. Work is cut into at most a few chunks per thread (enough to
/// balance uneven cores, few enough that scheduling stays negligible), and a job smaller than
/// <see cref="MinChunkWork"/> elements per chunk runs on the calling thread: for memory-bound
/// kernels a thread hand-off costs more than a few tens of kilobytes of work.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Elements of work below which splitting further does not pay.</summary>
    public const long MinChunkWork = 1 << 15;

    /// <summary>Items (floats) per block when an elementwise job is cut into ranges; a multiple of every vector width.</summary>
    public const int ElementBlock = 1024;

    /// <summary>Number of chunks to cut <paramref name="items"/> items of <paramref name="workPerItem"/> elements into.</summary>
    public static int ChunkCount(int threads, int items, long workPerItem)
    {
        if (threads <= 1 || items <= 1) return 1;
        long total = items * Math.Max(1L, workPerItem);
        long chunks = Math.Min(Math.Min(total / MinChunkWork, items), threads * 4L);
        return (int)Math.Max(1L, chunks);
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over contiguous item ranges covering [0, items).</summary>
    public static void For(int threads, int items, long workPerItem, Action<int, int> body)
    {
        if (items <= 0) return;
        int chunks = ChunkCount(threads, items, workPerItem);
        if (chunks == 1)
        {
            body(0, items);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            c => body((int)((long)items * c / chunks), (int)((long)items * (c + 1) / chunks)));
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over element ranges covering [0, n); range
    /// boundaries fall on <see cref="ElementBlock"/> multiples so chunks never share a cache line.
    /// </summary>
    public static void ForElements(int threads, int n, Action<int, int> body)
    {
        if (n <= 0) return;
        int blocks = (n + ElementBlock - 1) / ElementBlock;
        For(threads, blocks, ElementBlock,
            (b0, b1) => body(b0 * ElementBlock, (int)Math.Min((long)b1 * ElementBlock, n)));
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end, plane) over [0, planes * hw) cut into element
    /// ranges, each call covering part of one plane: per-channel maps split evenly across threads
    /// even when there are fewer planes than threads.
    /// </summary>
    public static void ForPlaneSegments(int threads, int planes, int hw, Action<int, int, int> body)
    {
        ForElements(threads, planes * hw, (s, e) =>
        {
            for (int p = s / hw; s < e; p++)
            {
                int pe = Math.Min(e, (p + 1) * hw);
                body(s, pe, p);
                s = pe;
            }
        });
    }

    /// <summary>Elements per partial sum of <see cref="SumElements"/>.</summary>
    public const int SumSegment = 16 * ElementBlock;

    /// <summary>
    /// Sum over [0, n) of <paramref name="body"/>(start, end) on fixed segments of
    /// <see cref="SumSegment"/> elements, added in segment order: the result is the same bit for
    /// bit whatever the thread count.
    /// </summary>
    public static double SumElements(int threads, int n, Func<int, int, double> body)
    {
        if (n <= 0) return 0;
        int segments = (n + SumSegment - 1) / SumSegment;
        if (segments == 1) return body(0, n);
        return SumItems(threads, segments, SumSegment,
            i => body(i * SumSegment, (int)Math.Min((long)(i + 1) * SumSegment, n)));
    }

    /// <summary>
    /// Sum over items of <paramref name="item"/>(i), with the per-item partials added in item
    /// order (deterministic whatever the thread count).
    /// </summary>
    public static double SumItems(int threads, int items, long workPerItem, Func<int, double> item)
    {
        if (items <= 0) return 0;
        var partial = ArrayPool<double>.Shared.Rent(items);
        try
        {
            For(threads, items, workPerItem, (a, b) =>
            {
                for (int i = a; i < b; i++) partial[i] = item(i);
            });
            double total = 0;
            for (int i = 0; i < items; i++) total += partial[i];
            return total;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }
}
