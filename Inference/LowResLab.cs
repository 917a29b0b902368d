using ILGpuSat.Imaging.Color;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Inference;

/// <summary>
/// The input reduced to what the network reads: CIE L* of every LR pixel (grey bands are taken as sRGB grey,
/// colour bands 1..3 as sRGB), and the input's own a*b* only when they are needed (models without a colour
/// head keep them; for the others the input's colour is dropped, so the output is recoloured).
/// Nodata pixels hold placeholders; they are set to the mean L* of the valid pixels (a*b* to 0) so that a
/// placeholder of 0 does not reach valid pixels as a dark rim through the network's receptive field.
/// </summary>
internal sealed class LowResLab
{
    public int Width { get; }
    public int Height { get; }
    public float[] L { get; }
    public float[]? A { get; }
    public float[]? B { get; }
    public bool[]? Valid { get; }

    private LowResLab(int width, int height, float[] l, float[]? a, float[]? b, bool[]? valid)
        => (Width, Height, L, A, B, Valid) = (width, height, l, a, b, valid);

    public static LowResLab From(RasterImage image, bool keepInputColour)
    {
        int n = image.PixelCount;
        var l = new float[n];
        float[]? a = null, b = null;
        if (image.Bands >= 3)
        {
            var rgb = image.RgbPlanes();
            if (keepInputColour)
            {
                a = new float[n];
                b = new float[n];
                ForChunks(n, (s, e) => Lab.RgbToLab(rgb[0].AsSpan(s, e - s), rgb[1].AsSpan(s, e - s), rgb[2].AsSpan(s, e - s),
                                                    l.AsSpan(s, e - s), a.AsSpan(s, e - s), b.AsSpan(s, e - s)));
            }
            else
                ForChunks(n, (s, e) => Lab.RgbToL(rgb[0].AsSpan(s, e - s), rgb[1].AsSpan(s, e - s), rgb[2].AsSpan(s, e - s), l.AsSpan(s, e - s)));
        }
        else
        {
            var g = image.Planes[0];
            ForChunks(n, (s, e) => Lab.RgbToL(g.AsSpan(s, e - s), g.AsSpan(s, e - s), g.AsSpan(s, e - s), l.AsSpan(s, e - s)));
        }

        var valid = image.Valid is { } v && Array.IndexOf(v, false) >= 0 ? v : null;
        if (valid is not null)
        {
            double sum = 0;
            long count = 0;
            for (int i = 0; i < n; i++)
                if (valid[i]) { sum += l[i]; count++; }
            float fill = count > 0 ? (float)(sum / count) : 50f;
            for (int i = 0; i < n; i++)
                if (!valid[i])
                {
                    l[i] = fill;
                    if (a is not null) { a[i] = 0; b![i] = 0; }
                }
        }
        return new LowResLab(image.Width, image.Height, l, a, b, valid);
    }

    /// <summary>Splits [0, n) into chunks over the thread pool (Lab's span overloads are single-threaded).</summary>
    private static void ForChunks(int n, Action<int, int> body)
    {
        const int chunk = 1 << 16;
        Parallel.For(0, (n + chunk - 1) / chunk, c => body(c * chunk, Math.Min(n, (c + 1) * chunk)));
    }
}
