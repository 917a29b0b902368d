namespace ILGpuSat.Imaging.Imagery;

/// <summary>Turns raw sample values (in source units) into the 0..1 display range, building the nodata mask first.</summary>
internal static class Stretcher
{
    /// <param name="typeMax">Full-scale value of the source type (255, 65535...), used by <see cref="StretchMode.FullRange"/>.</param>
    /// <param name="isFloat">Floating-point samples: NaN is always nodata, full range means "already 0..1".</param>
    public static void Finish(string path, RasterImage image, double typeMax, bool isFloat, StretchMode mode, ReadOptions o, double? fileNoData)
    {
        double? noData = o.NoData ?? (o.IgnoreFileNoData ? null : fileNoData);
        image.Valid = BuildMask(image, noData, isFloat);

        if (mode == StretchMode.Raw)
        {
            if (image.Valid is { } mask)
                foreach (var p in image.Planes)
                    for (int i = 0; i < p.Length; i++) if (!mask[i]) p[i] = 0f;
            return;
        }
        if (mode == StretchMode.Percentile)
        {
            var stretches = new BandStretch[image.Bands];
            for (int b = 0; b < image.Bands; b++)
            {
                var (lo, hi) = Percentiles(image.Planes[b], image.Valid, o.LowPercentile, o.HighPercentile, integral: !isFloat);
                stretches[b] = new BandStretch(lo, hi);
            }
            image.Stretch = stretches;
            Parallel.For(0, image.Bands, b => Apply(image.Planes[b], image.Valid, stretches[b]));
        }
        else
        {
            var s = new BandStretch(0, isFloat ? 1.0 : typeMax);
            if (typeMax != 255 || isFloat) image.Stretch = Enumerable.Repeat(s, image.Bands).ToArray();
            Parallel.For(0, image.Bands, b => Apply(image.Planes[b], image.Valid, s));
        }
    }

    static bool[]? BuildMask(RasterImage image, double? noData, bool isFloat)
    {
        if (noData is null && !isFloat) return null;
        int n = image.PixelCount;
        var valid = new bool[n];
        Array.Fill(valid, true);
        bool any = false;
        float nd = noData is { } v ? (float)v : float.NaN;
        bool ndIsNaN = noData is { } w && double.IsNaN(w);
        foreach (var p in image.Planes)
        {
            for (int i = 0; i < n; i++)
            {
                float x = p[i];
                // A pixel is nodata when any selected band holds the nodata value (GDAL's per-dataset nodata).
                if ((noData is not null && (x == nd || (ndIsNaN && float.IsNaN(x)))) || (isFloat && !float.IsFinite(x)))
                {
                    valid[i] = false;
                    any = true;
                }
            }
        }
        return any ? valid : null;
    }

    static void Apply(float[] plane, bool[]? valid, BandStretch s)
    {
        double lo = s.Low, span = s.High - s.Low;
        double inv = span > 0 ? 1.0 / span : 0.0;
        for (int i = 0; i < plane.Length; i++)
        {
            if (valid is not null && !valid[i]) { plane[i] = 0f; continue; }
            double v = (plane[i] - lo) * inv;
            plane[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }

    /// <summary>
    /// Percentiles of the valid values with numpy's default (linear) interpolation:
    /// position p/100*(n-1) in the sorted values. Integer data uses an exact histogram (no sort).
    /// Returns (0,0) when there is no valid pixel.
    /// </summary>
    public static (double Low, double High) Percentiles(float[] values, bool[]? valid, double lowPct, double highPct, bool integral)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        long count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (valid is not null && !valid[i]) continue;
            float v = values[i];
            if (!float.IsFinite(v)) continue;
            count++;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if (count == 0) return (0, 0);

        if (integral && max - min < (1 << 20))
        {
            int offset = (int)min;
            var hist = new long[(int)(max - min) + 1];
            for (int i = 0; i < values.Length; i++)
            {
                if (valid is not null && !valid[i]) continue;
                hist[(int)values[i] - offset]++;
            }
            return (FromHistogram(hist, offset, count, lowPct), FromHistogram(hist, offset, count, highPct));
        }

        var sorted = new float[count];
        long k = 0;
        for (int i = 0; i < values.Length; i++)
            if ((valid is null || valid[i]) && float.IsFinite(values[i])) sorted[k++] = values[i];
        Array.Sort(sorted);
        return (FromSorted(sorted, lowPct), FromSorted(sorted, highPct));
    }

    static double FromSorted(float[] s, double pct)
    {
        double pos = pct / 100.0 * (s.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, s.Length - 1);
        double f = pos - lo;
        return s[lo] + (s[hi] - (double)s[lo]) * f;
    }

    static double FromHistogram(long[] hist, int offset, long count, double pct)
    {
        double pos = pct / 100.0 * (count - 1);
        long lo = (long)Math.Floor(pos);
        long hi = Math.Min(lo + 1, count - 1);
        double f = pos - lo;
        double a = Nth(hist, offset, lo), b = hi == lo ? a : Nth(hist, offset, hi);
        return a + (b - a) * f;
    }

    /// <summary>The k-th smallest value (0-based) from a histogram.</summary>
    static double Nth(long[] hist, int offset, long k)
    {
        long seen = 0;
        for (int i = 0; i < hist.Length; i++)
        {
            seen += hist[i];
            if (seen > k) return i + offset;
        }
        return hist.Length - 1 + offset;
    }
}
