using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// How the Enhancer prepares its network and sizes its tiles: the network with batch norm folded into the
/// convolutions and the activations in their epilogues (<see cref="InferenceFolding.FoldForInference"/>), and a
/// per-tile memory budget from what the backend can give (<see cref="Backend.AvailableBytes"/>).
/// </summary>
internal static class InferenceRuntime
{
    /// <summary>The eval-mode, folded network to run (the loaded one is left as it is and disposed by the caller).</summary>
    public static SatNetwork Prepare(SatNetwork network)
    {
        network.Eval();
        return InferenceFolding.FoldForInference(network);
    }

    /// <summary>
    /// Host bytes the blend band may take (three float planes, one tile core of output rows as wide as the output):
    /// 600 MB holds a 10,000-pixel-wide input's band for cores up to 312 LR pixels.
    /// </summary>
    public const long BandBudgetBytes = 600L << 20;

    /// <summary>
    /// A full blocking collection, after every tile of a tiled image. The GC sizes its large-object budget by how much
    /// memory the machine has, not by what the process needs: on a 24 GB machine it let a 10,000 x 10,000 run's
    /// short-lived planes pile up past 9 GB. Without compaction a collection of a heap of a few hundred large float
    /// arrays takes milliseconds; a tile takes seconds.
    /// </summary>
    public static void CollectHostGarbage() => GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);

    /// <summary>
    /// Bytes one tile may take on <paramref name="backend"/>, by <see cref="TileMemory"/>'s estimate, for an LR image of
    /// <paramref name="width"/> x <paramref name="height"/>. CPU: a quarter of what the backend can give, and at most
    /// 2 GiB for images whose own planes (the input and its L*) stay under 512 MB, 768 MiB for larger ones: the process
    /// holds about twice the estimate per tile (the pool keeps idle arrays of each size a tile uses, .NET's array pool
    /// the convolutions' padded copies), and a 10,000 x 10,000 input's planes, blend band and output rows need the
    /// rest of the 4 GB `enhance` promises for it (docs/inference.md has the measurement). CUDA: 60% of the free
    /// device memory (the rest for the pool's rounding).
    /// </summary>
    public static long TileBudgetBytes(Backend backend, int width, int height)
    {
        if (backend is Kernels.Cpu.CpuBackend)
        {
            long imagePlanes = 2L * sizeof(float) * width * height;
            long cap = imagePlanes < (512L << 20) ? 2L << 30 : 768L << 20;
            return Math.Min(cap, backend.AvailableBytes / 4);
        }
        return (long)(backend.AvailableBytes * 0.6);
    }
}
