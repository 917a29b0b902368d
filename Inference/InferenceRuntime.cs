using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// The one seam between the Enhancer and two things other branches provide: a network prepared for inference
/// (batch norm folded, fused epilogues: InferenceFolding.FoldForInference, branch 'fuse') and the backend's free
/// memory (a Backend.AvailableBytes-style query). Until they land, the network runs as it is in eval mode
/// (the caller wraps every forward in Autograd.NoGrad) and the memory is estimated here.
/// </summary>
internal static class InferenceRuntime
{
    /// <summary>The network to run: <paramref name="network"/> in eval mode (switch to FoldForInference here).</summary>
    public static SatNetwork Prepare(SatNetwork network)
    {
        network.Eval();
        return network;
    }

    /// <summary>
    /// Bytes one tile's forward may take on <paramref name="backend"/>. CPU: a quarter of the memory the GC may use,
    /// at most 1.5 GB (the image itself, the blend band and the output rows need the rest). CUDA: no query yet;
    /// 4 GB fits any current card with the model and the pool's slack.
    /// </summary>
    public static long TileBudgetBytes(Backend backend)
    {
        if (backend.Name.Contains("cpu", StringComparison.OrdinalIgnoreCase))
            return Math.Min(1_500L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);
        return 4L << 30;
    }
}
