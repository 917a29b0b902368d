namespace ILGpuSat.Imaging.Metrics;

/// <summary>No-reference and ab-space colour metrics.</summary>
public static class ColorMetrics
{
    /// <summary>
    /// Hasler &amp; Süsstrunk (2003) colourfulness M = sigma_rgyb + 0.3 mu_rgyb with rg = R - G, yb = (R + G)/2 - B,
    /// on the 0..255 scale (inputs are 0..1 planes and are scaled by 255), population statistics.
    /// </summary>
    public static double Colourfulness(float[] r, float[] g, float[] b)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(b);
        if (r.Length == 0 || g.Length != r.Length || b.Length != r.Length)
            throw new ArgumentException($"Colourfulness: planes must be non-empty and equal in length ({r.Length}, {g.Length}, {b.Length})");
        double srg = 0, syb = 0, srg2 = 0, syb2 = 0;
        for (int i = 0; i < r.Length; i++)
        {
            double rg = 255.0 * (r[i] - (double)g[i]);
            double yb = 255.0 * (0.5 * (r[i] + (double)g[i]) - b[i]);
            srg += rg; syb += yb; srg2 += rg * rg; syb2 += yb * yb;
        }
        double n = r.Length;
        double mrg = srg / n, myb = syb / n;
        double vrg = Math.Max(0, srg2 / n - mrg * mrg), vyb = Math.Max(0, syb2 / n - myb * myb);
        return Math.Sqrt(vrg + vyb) + 0.3 * Math.Sqrt(mrg * mrg + myb * myb);
    }

    /// <summary>Fraction of pixels whose ab error (Euclidean, ab units) is within each threshold 0, 1, ..., maxThreshold.</summary>
    public static double[] AbAccuracyCurve(float[] aPred, float[] bPred, float[] aTrue, float[] bTrue, int maxThreshold = 150)
    {
        ArgumentNullException.ThrowIfNull(aPred);
        ArgumentNullException.ThrowIfNull(bPred);
        ArgumentNullException.ThrowIfNull(aTrue);
        ArgumentNullException.ThrowIfNull(bTrue);
        int n = aTrue.Length;
        if (n == 0 || aPred.Length != n || bPred.Length != n || bTrue.Length != n)
            throw new ArgumentException($"AbAccuracyCurve: planes must be non-empty and equal in length ({aPred.Length}, {bPred.Length}, {aTrue.Length}, {bTrue.Length})");
        if (maxThreshold <= 0) throw new ArgumentException($"AbAccuracyCurve: maxThreshold must be positive, got {maxThreshold}");
        // Histogram of ceil(distance): pixel counts within threshold t = cumulative count of bins <= t.
        var hist = new long[maxThreshold + 2];
        for (int i = 0; i < n; i++)
        {
            double da = (double)aPred[i] - aTrue[i], db = (double)bPred[i] - bTrue[i];
            double d = Math.Sqrt(da * da + db * db);
            int bin = d > maxThreshold ? maxThreshold + 1 : (int)Math.Ceiling(d);
            hist[bin]++;
        }
        var curve = new double[maxThreshold + 1];
        long cum = 0;
        for (int t = 0; t <= maxThreshold; t++) { cum += hist[t]; curve[t] = (double)cum / n; }
        return curve;
    }

    /// <summary>
    /// Zhang et al. (2016) "AuC": area under the cumulative ab accuracy curve over thresholds 0..150, by the
    /// trapezoid rule, divided by 150 (1 = perfect).
    /// </summary>
    public static double AbAuc(float[] aPred, float[] bPred, float[] aTrue, float[] bTrue, int maxThreshold = 150)
    {
        var c = AbAccuracyCurve(aPred, bPred, aTrue, bTrue, maxThreshold);
        double area = 0;
        for (int t = 1; t < c.Length; t++) area += 0.5 * (c[t] + c[t - 1]);
        return area / maxThreshold;
    }

    /// <summary>
    /// The diversity of several colourings of one image (divcolor's hypotheses): the mean over pairs of the mean
    /// per-pixel distance between their a*b* planes, in the planes' units; 0 for fewer than two.
    /// </summary>
    public static double MeanPairwiseAbDistance(IReadOnlyList<(float[] A, float[] B)> colourings)
    {
        ArgumentNullException.ThrowIfNull(colourings);
        if (colourings.Count < 2) return 0;
        int n = colourings[0].A.Length;
        if (n == 0 || colourings.Any(c => c.A.Length != n || c.B.Length != n))
            throw new ArgumentException("MeanPairwiseAbDistance: every colouring needs a* and b* planes of one non-zero length.");
        double sum = 0;
        int pairs = 0;
        for (int p = 0; p < colourings.Count; p++)
            for (int q = p + 1; q < colourings.Count; q++, pairs++)
            {
                var (ap, bp) = colourings[p];
                var (aq, bq) = colourings[q];
                double distance = 0;
                for (int i = 0; i < n; i++)
                {
                    double da = ap[i] - aq[i], db = bp[i] - bq[i];
                    distance += Math.Sqrt(da * da + db * db);
                }
                sum += distance / n;
            }
        return sum / pairs;
    }
}
