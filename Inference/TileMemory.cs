using ILGpuSat.Engine;
using ILGpuSat.Kernels;
using ILGpuSat.Networks;

namespace ILGpuSat.Inference;

/// <summary>
/// The device bytes one forward takes per network-input pixel, measured rather than guessed: one forward of a
/// small probe input under NoGrad, read from the backend's live-buffer peak (<see cref="Backend.PeakBytesInUse"/>).
/// A forward's buffers scale with its pixels (every activation and im2col workspace is per pixel), so the probe's
/// figure times a tile's pixels is that tile's peak; a margin covers the tile runner's own planes (bicubic input,
/// softmax over the 313 bins at 1/16 of the pixels, the blend) and the pool's slack.
/// </summary>
internal static class TileMemory
{
    /// <summary>Headroom over the measured forward: the runner's planes and the pool's rounding.</summary>
    public const double Margin = 1.5;

    public static double BytesPerInputPixel(SatNetwork network, Backend backend)
    {
        // A probe large enough that per-pixel costs dominate the fixed ones (weights are already resident).
        int multiple = Math.Max(1, network.SizeMultiple);
        int side = (64 + multiple - 1) / multiple * multiple;
        long before = backend.BytesInUse;
        backend.ResetPeakBytesInUse();
        using (new TensorScope())
        using (Autograd.NoGrad())
        {
            var probe = Tensor.Zeros([1, 1, side, side], backend);
            network.Forward(probe);
        }
        long used = Math.Max(0, backend.PeakBytesInUse - before);
        return Margin * used / ((double)side * side);
    }
}
