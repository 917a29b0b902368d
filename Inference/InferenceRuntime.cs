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
    /// Bytes one tile's forward may take on <paramref name="backend"/>. CPU: a quarter of what the backend can give, at
    /// most 1.5 GB (the whole-image L* input, the blend band and the output rows need the rest, and `enhance` promises
    /// a 10k x 10k input under 4 GB). CUDA: 60% of the free device memory (the rest for the pool's rounding and the
    /// runner's planes).
    /// </summary>
    /// <summary>
    /// Host bytes the blend band may take (three float planes, one tile core of output rows as wide as the output):
    /// 600 MB holds a 10,000-pixel-wide input's band for cores up to 312 LR pixels.
    /// </summary>
    public const long BandBudgetBytes = 600L << 20;

    public static long TileBudgetBytes(Backend backend)
    {
        if (backend.Name.Contains("cpu", StringComparison.OrdinalIgnoreCase))
            return Math.Min(1_500L << 20, backend.AvailableBytes / 4);
        return (long)(backend.AvailableBytes * 0.6);
    }
}
