using System.Numerics;
using ILGpuSat.Imaging.Imagery;

namespace ILGpuSat.Imaging.Resampling;

/// <summary>
/// Separable image resizing with MATLAB <c>imresize</c> semantics (see <see cref="Contributions"/> and
/// docs/resampling.md): bicubic a = -0.5 or bilinear, antialiased when shrinking, symmetric borders.
/// Planes are float, row-major; arithmetic is float (MATLAB works in double and, for uint8 input, rounds
/// between the two passes; we never round). Agreement with PIL's double arithmetic is ~2e-7 on 0..1 data.
/// </summary>
public static class Resampler
{
    /// <summary>MATLAB's output size for a scale factor: ceil(scale * size).</summary>
    public static (int Width, int Height) ScaledSize(int width, int height, double scale)
    {
        if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentException($"Resampler: scale must be positive and finite, got {scale}");
        // A tiny tolerance keeps 150 * (1/4) * 4 style round trips from growing by one pixel.
        return ((int)Math.Ceiling(width * scale - 1e-9), (int)Math.Ceiling(height * scale - 1e-9));
    }

    /// <summary>Resizes one plane to dstWidth x dstHeight (scale per axis = dst/src, as MATLAB with an output size).</summary>
    public static float[] Resize(float[] src, int srcWidth, int srcHeight, int dstWidth, int dstHeight,
                                 ResampleKernel kernel = ResampleKernel.Bicubic, bool antialias = true)
        => Resize(src, srcWidth, srcHeight, dstWidth, dstHeight, (double)dstWidth / srcWidth, (double)dstHeight / srcHeight, kernel, antialias);

    /// <summary>MATLAB <c>imresize(A, [outHeight outWidth], 'bicubic')</c> with antialiasing, as a plain
    /// (plane, width, height, outWidth, outHeight) function that converts to resize delegates.</summary>
    public static float[] Bicubic(float[] plane, int width, int height, int outWidth, int outHeight)
        => Resize(plane, width, height, outWidth, outHeight, ResampleKernel.Bicubic, antialias: true);

    /// <summary>
    /// The plane's value at a real position (x, y) in pixel coordinates (pixel centres at whole numbers) by Keys' cubic
    /// (a = -0.5, imresize's kernel) over the 4 x 4 neighbours, edges clamped: a sub-pixel shift or warp.
    /// </summary>
    public static float SampleBicubic(float[] plane, int width, int height, double x, double y)
    {
        int ix = (int)Math.Floor(x), iy = (int)Math.Floor(y);
        double fx = x - ix, fy = y - iy, sum = 0;
        for (int j = -1; j <= 2; j++)
        {
            double wy = Kernels.Cubic(j - fy);
            if (wy == 0) continue;
            int row = Math.Clamp(iy + j, 0, height - 1) * width;
            for (int i = -1; i <= 2; i++)
                sum += wy * Kernels.Cubic(i - fx) * plane[row + Math.Clamp(ix + i, 0, width - 1)];
        }
        return (float)sum;
    }

    /// <summary>Resizes one plane by a scale factor (output ceil(scale*size), weights from the exact scale, as MATLAB).</summary>
    public static float[] Scale(float[] src, int srcWidth, int srcHeight, double scale,
                                ResampleKernel kernel = ResampleKernel.Bicubic, bool antialias = true)
    {
        var (w, h) = ScaledSize(srcWidth, srcHeight, scale);
        return Resize(src, srcWidth, srcHeight, w, h, scale, scale, kernel, antialias);
    }

    /// <summary>Every plane of an image, and its nodata mask (see <see cref="ResizeImage"/>); multithreaded inside each plane.</summary>
    public static RasterImage Resize(RasterImage image, int dstWidth, int dstHeight,
                                     ResampleKernel kernel = ResampleKernel.Bicubic, bool antialias = true)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ResizeImage(image, dstWidth, dstHeight, (double)dstWidth / image.Width, (double)dstHeight / image.Height, kernel, antialias);
    }

    /// <summary>Every plane by a scale factor; the georeference, if any, follows (<see cref="GeoReference.ScaledBy"/>).</summary>
    public static RasterImage Scale(RasterImage image, double scale, ResampleKernel kernel = ResampleKernel.Bicubic, bool antialias = true)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (w, h) = ScaledSize(image.Width, image.Height, scale);
        var result = ResizeImage(image, w, h, scale, scale, kernel, antialias);
        result.Geo = image.Geo?.ScaledBy(scale);
        return result;
    }

    /// <summary>
    /// Every plane, and the nodata mask with them. Masked pixels must not bleed into valid ones (their
    /// value is a placeholder), so a masked image is resampled as a normalised convolution: the planes
    /// times the mask, divided by the resampled mask. An output pixel is valid when the source pixel
    /// nearest its centre is valid (and enough valid weight reaches it); otherwise it is masked and 0.
    /// </summary>
    static RasterImage ResizeImage(RasterImage image, int w, int h, double scaleX, double scaleY, ResampleKernel kernel, bool antialias)
    {
        int sw = image.Width, sh = image.Height;
        if (image.Valid is not { } valid)
        {
            var plain = image.Planes.Select(p => Resize(p, sw, sh, w, h, scaleX, scaleY, kernel, antialias)).ToArray();
            return image.WithPlanes(plain, w, h);
        }

        var weight = new float[valid.Length];
        for (int i = 0; i < weight.Length; i++) weight[i] = valid[i] ? 1f : 0f;
        var reach = Resize(weight, sw, sh, w, h, scaleX, scaleY, kernel, antialias);
        var outValid = new bool[(long)w * h];
        bool anyMasked = false;
        for (int y = 0; y < h; y++)
        {
            int sy = Math.Clamp((int)Math.Floor((y + 0.5) / scaleY), 0, sh - 1);
            for (int x = 0; x < w; x++)
            {
                int sx = Math.Clamp((int)Math.Floor((x + 0.5) / scaleX), 0, sw - 1);
                int o = y * w + x;
                outValid[o] = valid[sy * sw + sx] && reach[o] > MinValidWeight;
                anyMasked |= !outValid[o];
            }
        }
        var planes = new float[image.Bands][];
        for (int b = 0; b < planes.Length; b++)
        {
            var src = image.Planes[b];
            var weighted = new float[src.Length];
            for (int i = 0; i < src.Length; i++) weighted[i] = valid[i] ? src[i] : 0f;
            var r = Resize(weighted, sw, sh, w, h, scaleX, scaleY, kernel, antialias);
            for (int i = 0; i < r.Length; i++) r[i] = outValid[i] ? r[i] / reach[i] : 0f;
            planes[b] = r;
        }
        var result = image.WithPlanes(planes, w, h);
        result.Valid = anyMasked ? outValid : null;
        return result;
    }

    /// <summary>Below this share of the kernel's weight on valid pixels a result is too extrapolated to keep.</summary>
    const float MinValidWeight = 0.25f;

    /// <summary>Core: explicit per-axis scales (they set the kernel positions; sizes set the output extent).</summary>
    public static float[] Resize(float[] src, int srcWidth, int srcHeight, int dstWidth, int dstHeight,
                                 double scaleX, double scaleY, ResampleKernel kernel, bool antialias)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (srcWidth <= 0 || srcHeight <= 0 || dstWidth <= 0 || dstHeight <= 0)
            throw new ArgumentException($"Resampler.Resize: sizes must be positive, got {srcWidth}x{srcHeight} -> {dstWidth}x{dstHeight}");
        if (src.Length != (long)srcWidth * srcHeight)
            throw new ArgumentException($"Resampler.Resize: plane has {src.Length} values, expected {srcWidth}x{srcHeight}");

        var cx = Contributions.Compute(srcWidth, dstWidth, scaleX, kernel, antialias);
        var cy = Contributions.Compute(srcHeight, dstHeight, scaleY, kernel, antialias);
        // The passes commute mathematically (MATLAB runs the smaller scale first); we order them so that the
        // scalar horizontal pass runs over the fewer rows: shrinking vertically first, enlarging horizontally first.
        // The two orders differ only by float rounding.
        if (dstHeight <= srcHeight)
        {
            var tmp = Vertical(src, srcWidth, srcHeight, cy);
            return Horizontal(tmp, srcWidth, dstHeight, cx);
        }
        else
        {
            var tmp = Horizontal(src, srcWidth, srcHeight, cx);
            return Vertical(tmp, dstWidth, srcHeight, cy);
        }
    }

    const int MinRowsPerTask = 16;

    static float[] Horizontal(float[] src, int width, int height, Contributions c)
    {
        int outW = c.OutLength, taps = c.Taps;
        var dst = new float[(long)outW * height];
        var idx = c.Index;
        var w = c.Weight;
        var start = c.Start;
        ForRows(height, (y0, y1) =>
        {
            for (int y = y0; y < y1; y++)
            {
                int srow = y * width, drow = y * outW;
                var row = src.AsSpan(srow, width);
                for (int o = 0; o < outW; o++)
                {
                    int b = o * taps, s0 = start[o];
                    float acc;
                    if (s0 >= 0) acc = Dot(row.Slice(s0, taps), w.AsSpan(b, taps));
                    else
                    {
                        acc = 0;
                        for (int k = 0; k < taps; k++) acc += w[b + k] * row[idx[b + k]];
                    }
                    dst[drow + o] = acc;
                }
            }
        });
        return dst;
    }

    static float[] Vertical(float[] src, int width, int height, Contributions c)
    {
        int outH = c.OutLength, taps = c.Taps;
        var dst = new float[(long)width * outH];
        var idx = c.Index;
        var w = c.Weight;
        int vw = Vector<float>.Count;
        ForRows(outH, (o0, o1) =>
        {
            for (int o = o0; o < o1; o++)
            {
                var drow = dst.AsSpan(o * width, width);
                int b = o * taps;
                for (int k = 0; k < taps; k++)
                {
                    float wk = w[b + k];
                    var srow = src.AsSpan(idx[b + k] * width, width);
                    var wv = new Vector<float>(wk);
                    int x = 0;
                    for (; x <= width - vw; x += vw)
                        (new Vector<float>(drow[x..]) + wv * new Vector<float>(srow[x..])).CopyTo(drow[x..]);
                    for (; x < width; x++) drow[x] += wk * srow[x];
                }
            }
        });
        return dst;
    }

    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, vw = Vector<float>.Count, i = 0;
        float acc = 0;
        if (n >= vw)
        {
            var v = Vector<float>.Zero;
            for (; i <= n - vw; i += vw) v += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
            acc = Vector.Sum(v);
        }
        for (; i < n; i++) acc += a[i] * b[i];
        return acc;
    }

    static void ForRows(int rows, Action<int, int> body)
    {
        int chunks = Math.Min(Environment.ProcessorCount * 4, Math.Max(1, rows / MinRowsPerTask));
        if (chunks <= 1) { body(0, rows); return; }
        Parallel.For(0, chunks, i => body((int)((long)rows * i / chunks), (int)((long)rows * (i + 1) / chunks)));
    }
}
