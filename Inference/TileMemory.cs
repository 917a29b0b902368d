using ILGpuSat.Kernels;

namespace ILGpuSat.Inference;

/// <summary>
/// The device bytes one tile takes per LR pixel of its window, measured rather than guessed: one
/// <see cref="TileRunner.Run"/> of a probe tile (bicubic x4, the forward under NoGrad, the colour decoding),
/// read from the backend's live-buffer peak (<see cref="Backend.PeakBytesInUse"/>). Every activation and
/// workspace is per pixel, so the probe's figure times a tile's pixels is that tile's peak; a margin covers what
/// the peak does not see (the CPU convolution's padded input copies come from .NET's array pool) and the pool's
/// rounding.
/// </summary>
internal static class TileMemory
{
    /// <summary>Headroom over the measured peak.</summary>
    public const double Margin = 1.5;

    public static double BytesPerLrPixel(TileRunner runner, Backend backend, int multiple)
    {
        // A probe large enough that per-pixel costs dominate the fixed ones (weights and constants are resident).
        int side = TileAxis.RoundUp(64, Math.Max(1, multiple));
        var l = new float[side * side];
        long before = backend.BytesInUse;
        backend.ResetPeakBytesInUse();
        runner.Run(l, null, null, side, side);
        long used = Math.Max(0, backend.PeakBytesInUse - before);
        return Margin * used / ((double)side * side);
    }
}
