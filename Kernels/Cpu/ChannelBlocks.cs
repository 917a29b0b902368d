using System.Buffers;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

/// <summary>
/// A group of neighbouring pixels of one image for per-pixel work over the channel axis (softmax,
/// cross-entropy): <see cref="Start"/> is the NCHW index of its channel-0 value (channel c lies at
/// Start + c*HW), <see cref="Pixel"/> its index in an [N,1,H,W] buffer, <see cref="Width"/> its
/// pixel count: 64 (<see cref="Px64"/>), 16 (<see cref="Px16"/>) or 1..15 for the partial last group.
/// </summary>
internal readonly record struct PixelBlock(int Start, int Pixel, int Width)
{
    public bool IsPartial => Width < ChannelBlocks.Lanes;
}

/// <summary>
/// Cuts each image's pixels into 64-wide groups, then 16-wide ones, then a partial group; the
/// partial group is copied into a zero-padded [C, 16] scratch (row stride 16) so the same vector
/// code handles it.
/// </summary>
internal static class ChannelBlocks
{
    public const int Lanes = SimdMath.W;
    public const int Wide = 4 * Lanes;

    /// <summary>
    /// Whether groups run on 512-bit vectors (<see cref="Px64"/>, <see cref="Px16"/>) or, where
    /// Vector512 would be emulated but 256-bit vectors are real (AVX2), on <see cref="Px32Avx2"/>
    /// (a 64-pixel group as two halves) and <see cref="Px16Avx2"/>.
    /// </summary>
    public static bool Use256 => !Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated;

    public static int ItemsPerImage(int hw) => hw / Wide + hw % Wide / Lanes + (hw % Lanes != 0 ? 1 : 0);

    public static PixelBlock Locate(int item, int itemsPerImage, int channels, int hw)
    {
        int n = item / itemsPerImage, i = item % itemsPerImage;
        int wide = hw / Wide, narrow = hw % Wide / Lanes;
        int j, width;
        if (i < wide)
        {
            j = i * Wide;
            width = Wide;
        }
        else if (i < wide + narrow)
        {
            j = wide * Wide + (i - wide) * Lanes;
            width = Lanes;
        }
        else
        {
            j = wide * Wide + narrow * Lanes;
            width = hw - j;
        }
        return new PixelBlock(n * channels * hw + j, n * hw + j, width);
    }

    /// <summary>Scratch for a partial group of <paramref name="channels"/> channels (zero-filled).</summary>
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
}
