using System.Buffers;

namespace ILGpuSat.Kernels.Cpu;

/// <summary>
/// Per-pixel work over the channel axis of NCHW data (softmax, cross-entropy), vectorised across
/// 16 neighbouring pixels: a block is 16 pixels of one image, and channel c of the block starts
/// at c * stride. Full blocks are processed in place with stride HW; a partial last block is
/// copied into a zero-padded [C, 16] scratch (stride 16) so the same vector code handles it.
/// </summary>
internal static class ChannelBlocks
{
    public const int Lanes = SimdMath.W;

    /// <summary>Number of pixel blocks per image.</summary>
    public static int BlocksPerImage(int hw) => (hw + Lanes - 1) / Lanes;

    /// <summary>Scratch for a partial block of <paramref name="channels"/> channels (zero-filled).</summary>
    public static float[] RentScratch(int channels)
    {
        var a = ArrayPool<float>.Shared.Rent(channels * Lanes);
        Array.Clear(a, 0, channels * Lanes);
        return a;
    }

    public static void ReturnScratch(float[] a) => ArrayPool<float>.Shared.Return(a);

    /// <summary>scratch[c*16 + l] = src[start + c*hw + l] for l &lt; lanes (the rest stays zero).</summary>
    public static void Gather(float[] src, int start, int hw, int channels, int lanes, float[] scratch)
    {
        for (int c = 0; c < channels; c++)
            Array.Copy(src, start + c * hw, scratch, c * Lanes, lanes);
    }

    /// <summary>dst[start + c*hw + l] = scratch[c*16 + l] for l &lt; lanes.</summary>
    public static void Scatter(float[] scratch, float[] dst, int start, int hw, int channels, int lanes)
    {
        for (int c = 0; c < channels; c++)
            Array.Copy(scratch, c * Lanes, dst, start + c * hw, lanes);
    }

    /// <summary>Gathers one input of [N,1,H,W] (per-pixel weights) into a zero-padded 16-lane scratch.</summary>
    public static void GatherPixels(float[] src, int start, int lanes, float[] scratch)
    {
        Array.Clear(scratch, 0, Lanes);
        Array.Copy(src, start, scratch, 0, lanes);
    }
}
