using ILGpuSat.Imaging.Resampling;
namespace ILGpuSat.Imaging.Metrics;

/// <summary>
/// Full-reference image quality metrics on float planes (row-major, width x height), computed in double.
/// Conventions follow scikit-image 0.19 (<c>skimage.metrics</c>) and the super-resolution literature:
/// PSNR on one channel (L* with data range 100, or Y with range 255) after cropping <c>border</c> pixels
/// (border = scale factor); SSIM with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03,
/// population covariance (skimage gaussian_weights=True, use_sample_covariance=False).
/// </summary>
public static class ImageMetrics
{
    /// <summary>PSNR in dB: 10 log10(range^2 / MSE) over the plane with <paramref name="border"/> pixels cut from
    /// every side. Identical planes give +Infinity.</summary>
    public static double Psnr(float[] reference, float[] test, int width, int height, double dataRange, int border = 0)
    {
        Check(nameof(Psnr), reference, test, width, height, border, dataRange);
        return ToPsnr(SquaredError(reference, test, width, height, border, out long n) / n, dataRange);
    }

    /// <summary>PSNR of a super-resolved plane: the SR convention crops <paramref name="scale"/> pixels from each side.</summary>
    public static double PsnrSr(float[] highRes, float[] superResolved, int width, int height, int scale, double dataRange)
        => Psnr(highRes, superResolved, width, height, dataRange, border: scale);

    /// <summary>PSNR over several channels (e.g. RGB): one MSE over every channel and pixel, as skimage on an HxWxC array.</summary>
    public static double Psnr(float[][] reference, float[][] test, int width, int height, double dataRange, int border = 0)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (reference.Length != test.Length || reference.Length == 0)
            throw new ArgumentException($"Psnr: channel counts differ or are zero ({reference.Length} vs {test.Length})");
        double sum = 0;
        long n = 0;
        for (int c = 0; c < reference.Length; c++)
        {
            Check(nameof(Psnr), reference[c], test[c], width, height, border, dataRange);
            sum += SquaredError(reference[c], test[c], width, height, border, out long nc);
            n += nc;
        }
        return ToPsnr(sum / n, dataRange);
    }

    static double ToPsnr(double mse, double range) => mse == 0 ? double.PositiveInfinity : 10.0 * Math.Log10(range * range / mse);

    internal static double SquaredError(float[] a, float[] b, int width, int height, int border, out long count)
    {
        double sum = 0;
        for (int y = border; y < height - border; y++)
        {
            int row = y * width;
            double rs = 0;
            for (int x = border; x < width - border; x++)
            {
                double d = (double)a[row + x] - b[row + x];
                rs += d * d;
            }
            sum += rs;
        }
        count = (long)(width - 2 * border) * (height - 2 * border);
        return sum;
    }

    static void Check(string op, float[] a, float[] b, int width, int height, int border, double range)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (width <= 0 || height <= 0) throw new ArgumentException($"{op}: size must be positive, got {width}x{height}");
        if (a.Length != (long)width * height || b.Length != a.Length)
            throw new ArgumentException($"{op}: planes have {a.Length} and {b.Length} values, expected {width}x{height}");
        if (border < 0 || 2 * border >= width || 2 * border >= height)
            throw new ArgumentException($"{op}: border {border} leaves nothing of a {width}x{height} plane");
        if (!(range > 0)) throw new ArgumentException($"{op}: data range must be positive, got {range}");
    }

    // ---------------------------------------------------------------- SSIM

    public const double SsimSigma = 1.5, SsimK1 = 0.01, SsimK2 = 0.03;
    /// <summary>skimage: truncate 3.5 -> radius int(3.5*1.5 + 0.5) = 5, an 11-tap window.</summary>
    public const int SsimRadius = 5;

    /// <summary>Mean SSIM (skimage 0.19, gaussian_weights=True, use_sample_covariance=False) of the plane with
    /// <paramref name="border"/> pixels cut first; the SSIM map is averaged over pixels at least 5 from the (cropped) edge.</summary>
    public static double Ssim(float[] reference, float[] test, int width, int height, double dataRange, int border = 0)
    {
        Check(nameof(Ssim), reference, test, width, height, border, dataRange);
        int w = width - 2 * border, h = height - 2 * border;
        if (w < 2 * SsimRadius + 1 || h < 2 * SsimRadius + 1)
            throw new ArgumentException($"Ssim: a {w}x{h} plane (after the border crop) is smaller than the 11x11 window");
        var x = Crop(reference, width, border, w, h);
        var y = Crop(test, width, border, w, h);
        var xx = new double[x.Length]; var yy = new double[x.Length]; var xy = new double[x.Length];
        for (int i = 0; i < x.Length; i++) { xx[i] = x[i] * x[i]; yy[i] = y[i] * y[i]; xy[i] = x[i] * y[i]; }
        // Replicated edges: the band they affect is excluded from the SSIM mean anyway.
        var k = GaussianFilter.Kernel(SsimSigma, SsimRadius);
        double[] ux = GaussianFilter.Blur(x, w, h, k), uy = GaussianFilter.Blur(y, w, h, k), uxx = GaussianFilter.Blur(xx, w, h, k),
                 uyy = GaussianFilter.Blur(yy, w, h, k), uxy = GaussianFilter.Blur(xy, w, h, k);
        double c1 = Math.Pow(SsimK1 * dataRange, 2), c2 = Math.Pow(SsimK2 * dataRange, 2);
        double sum = 0;
        int r = SsimRadius;
        for (int j = r; j < h - r; j++)
        for (int i = r; i < w - r; i++)
        {
            int p = j * w + i;
            double vx = uxx[p] - ux[p] * ux[p], vy = uyy[p] - uy[p] * uy[p], vxy = uxy[p] - ux[p] * uy[p];
            sum += (2 * ux[p] * uy[p] + c1) * (2 * vxy + c2) / ((ux[p] * ux[p] + uy[p] * uy[p] + c1) * (vx + vy + c2));
        }
        return sum / ((long)(w - 2 * r) * (h - 2 * r));
    }

    /// <summary>SSIM over channels: the mean of per-channel SSIM (skimage with channel_axis).</summary>
    public static double Ssim(float[][] reference, float[][] test, int width, int height, double dataRange, int border = 0)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(test);
        if (reference.Length != test.Length || reference.Length == 0)
            throw new ArgumentException($"Ssim: channel counts differ or are zero ({reference.Length} vs {test.Length})");
        double s = 0;
        for (int c = 0; c < reference.Length; c++) s += Ssim(reference[c], test[c], width, height, dataRange, border);
        return s / reference.Length;
    }

    static double[] Crop(float[] a, int width, int border, int w, int h)
    {
        var r = new double[(long)w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) r[y * w + x] = a[(y + border) * width + x + border];
        return r;
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Luma Y of ITU-R BT.601 as MATLAB's rgb2ycbcr (the SR literature's "Y channel"): RGB in 0..1 to
    /// Y in 16..235 (use data range 255 for PSNR).</summary>
    public static float[] LumaY(float[] r, float[] g, float[] b)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(b);
        if (g.Length != r.Length || b.Length != r.Length) throw new ArgumentException("LumaY: planes differ in length");
        var y = new float[r.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (float)(16.0 + 65.481 * r[i] + 128.553 * g[i] + 24.966 * b[i]);
        return y;
    }
}
