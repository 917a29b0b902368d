using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Resampling;

/// <summary>
/// The frames-major planes a multi-image SR network reads for one scene: each look bicubic x scale and standardised,
/// (x - mean) / std, and its quality map nearest-upsampled (1 = clear), written in the order given. DeepSUM's batches
/// (training) and its enhancer (inference) both make their input this way.
/// </summary>
public static class LookStack
{
    /// <summary>Writes <paramref name="looks"/> (lrWidth x lrHeight each) into frames and masks starting at <paramref name="at"/>.</summary>
    public static void Write(IReadOnlyList<ProbaVFrame> looks, int lrWidth, int lrHeight, int scale, float mean, float std,
                             float[] frames, float[] masks, long at = 0)
    {
        ArgumentNullException.ThrowIfNull(looks);
        int w = lrWidth * scale, h = lrHeight * scale, hw = w * h;
        if (frames.Length < at + (long)looks.Count * hw || masks.Length < at + (long)looks.Count * hw)
            throw new ArgumentException($"LookStack: {looks.Count} looks of {w}x{h} do not fit from offset {at}.");
        for (int k = 0; k < looks.Count; k++)
        {
            var up = Resampler.Bicubic(looks[k].Pixels, lrWidth, lrHeight, w, h);
            long o = at + (long)k * hw;
            for (int p = 0; p < hw; p++)
            {
                frames[o + p] = (up[p] - mean) / std;
                masks[o + p] = looks[k].Clear[p / w / scale * lrWidth + p % w / scale] ? 1f : 0f;
            }
        }
    }
}
