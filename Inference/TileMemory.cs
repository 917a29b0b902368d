using ILGpuSat.Kernels;

namespace ILGpuSat.Inference;

/// <summary>
/// The device bytes one tile takes per LR pixel of its window, measured rather than guessed: one
/// <see cref="TileRunner.Run"/> of a probe tile (bicubic x4, the forward under NoGrad, the colour decoding),
/// read from the backend's live-buffer peak (<see cref="Backend.PeakBytesInUse"/>). Every activation and
/// workspace is per pixel, so the probe's figure times a tile's pixels is that tile's peak; a margin covers what
/// the peak does not see (the CPU convolution's padded input copies come from .NET's array pool) and the pool's
/// rounding. The probe also reads the largest single tensor, which a backend's per-tensor limit bounds
/// (<see cref="Backend.MaxBufferFloats"/>: 2^30 floats on CUDA).
/// </summary>
internal static class TileMemory
{
    /// <summary>Headroom over the measured peak.</summary>
    public const double Margin = 1.5;

    /// <summary>Bytes per LR pixel of a tile (with the margin) and floats per LR pixel of its largest single tensor.</summary>
    public static (double Bytes, double LargestTensorFloats) PerLrPixel(TileRunner runner, Backend backend, int multiple)
    {
        // A probe large enough that per-pixel costs dominate the fixed ones (weights and constants are resident).
        int side = TileAxis.RoundUp(64, Math.Max(1, multiple));
        var l = new float[side * side];
        long before = backend.BytesInUse;
        backend.ResetPeakBytesInUse();
        runner.Run(l, null, null, side, side);
        long used = Math.Max(0, backend.PeakBytesInUse - before);
        double pixels = (double)side * side;
        return (Margin * used / pixels, backend.LargestBufferFloats / pixels);
    }
}
