namespace ILGpuSat.Imaging.Resampling;

/// <summary>Separable Gaussian filtering of a plane: SSIM's window (ImageMetrics) and the MISR simulator's optics blur.</summary>
public static class GaussianFilter
{
    /// <summary>Normalised Gaussian weights exp(-i^2 / (2 sigma^2)) for i in [-radius, radius].</summary>
    public static double[] Kernel(double sigma, int radius)
    {
        var k = new double[2 * radius + 1];
        double s = 0;
        for (int i = -radius; i <= radius; i++) s += k[i + radius] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] /= s;
        return k;
    }

    /// <summary>Separable filtering of a plane by <paramref name="k"/> with replicated edges (scipy mode 'nearest',
    /// skimage's default), rows in parallel.</summary>
    public static double[] Blur(double[] a, int w, int h, double[] k)
    {
        int r = k.Length / 2;
        var tmp = new double[a.Length];
        var dst = new double[a.Length];
        Parallel.For(0, h, y =>
        {
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int t = -r; t <= r; t++) s += k[t + r] * a[y * w + Math.Clamp(x + t, 0, w - 1)];
                tmp[y * w + x] = s;
            }
        });
        Parallel.For(0, h, y =>
        {
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int t = -r; t <= r; t++) s += k[t + r] * tmp[Math.Clamp(y + t, 0, h - 1) * w + x];
                dst[y * w + x] = s;
            }
        });
        return dst;
    }
}
