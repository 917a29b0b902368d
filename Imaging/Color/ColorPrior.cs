namespace ILGpuSat.Imaging.Color;

/// <summary>
/// A probability distribution over the 313 ab bins: the empirical colour prior of a set of images
/// (Zhang et al. 2016, Sec. 2.2; Liu et al. 2018 fuse the satellite prior with ImageNet's), its
/// Gaussian smoothing, fusion and the class-rebalancing weights of the colour loss.
/// Immutable; values are doubles (Zhang's prior has entries down to 6e-9).
/// </summary>
public sealed class ColorPrior
{
    /// <summary>Default mixing weight of the ImageNet prior in the fused prior.</summary>
    public const double DefaultImageNetWeight = 0.5;

    /// <summary>Zhang's lambda: weight of the uniform distribution in the rebalancing.</summary>
    public const double DefaultLambda = 0.5;

    /// <summary>Zhang's smoothing sigma in ab units.</summary>
    public const double DefaultSigma = 5.0;

    private readonly double[] _p;

    private ColorPrior(double[] p) => _p = p;

    /// <summary>Zhang's ImageNet prior (prior_probs.npy), compiled in.</summary>
    public static ColorPrior ImageNet { get; } = FromProbabilities(ZhangTables.ImageNetPrior);

    /// <summary>The 313 probabilities (sum 1).</summary>
    public ReadOnlySpan<double> Probabilities => _p;

    public double this[int bin] => _p[bin];

    /// <summary>From non-negative weights (counts or probabilities), normalised to sum 1.</summary>
    public static ColorPrior FromProbabilities(ReadOnlySpan<double> weights)
    {
        if (weights.Length != AbBins.Count)
            throw new ArgumentException($"ColorPrior: expected {AbBins.Count} values, got {weights.Length}.");
        double sum = 0;
        foreach (double w in weights)
        {
            if (!(w >= 0) || double.IsInfinity(w))
                throw new ArgumentException($"ColorPrior: values must be finite and non-negative, found {w}.");
            sum += w;
        }
        if (sum <= 0) throw new ArgumentException("ColorPrior: all values are zero (no pixels counted?).");
        // Already-normalised input (a loaded prior) is kept bit for bit.
        if (Math.Abs(sum - 1) < 1e-12) sum = 1;
        var p = new double[AbBins.Count];
        for (int i = 0; i < p.Length; i++) p[i] = weights[i] / sum;
        return new ColorPrior(p);
    }

    /// <summary>Empirical distribution of a histogram of nearest bins.</summary>
    public static ColorPrior FromHistogram(BinHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Total == 0) throw new ArgumentException("ColorPrior.FromHistogram: the histogram is empty.");
        return FromProbabilities(histogram.Counts.ToArray().Select(c => (double)c).ToArray());
    }

    /// <summary>
    /// Gaussian smoothing over ab: each bin receives sum_j p_j exp(-|c_i - c_j|^2 / (2 sigma^2)).
    /// Mass that the kernel spreads outside the gamut is dropped and the result renormalised, which
    /// equals scipy.ndimage.gaussian_filter(sigma = sigma / 10, mode = "constant") on the 10-unit
    /// bin grid followed by renormalisation (checked against it in the golden tests).
    /// </summary>
    public ColorPrior Smooth(double sigma = DefaultSigma, AbBins? bins = null)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), $"ColorPrior.Smooth: sigma must be positive, got {sigma}.");
        bins ??= AbBins.Default;
        var a = bins.A; var b = bins.B;
        var s = new double[AbBins.Count];
        double inv = -1.0 / (2 * sigma * sigma);
        for (int i = 0; i < s.Length; i++)
        {
            double acc = 0;
            for (int j = 0; j < s.Length; j++)
            {
                double da = a[i] - a[j], db = b[i] - b[j];
                acc += _p[j] * Math.Exp((da * da + db * db) * inv);
            }
            s[i] = acc;
        }
        return FromProbabilities(s);
    }

    /// <summary>(1 - imageNetWeight) * this + imageNetWeight * imageNet (Liu et al.'s fused prior).</summary>
    public ColorPrior FuseWith(ColorPrior imageNet, double imageNetWeight = DefaultImageNetWeight)
    {
        ArgumentNullException.ThrowIfNull(imageNet);
        if (!(imageNetWeight >= 0 && imageNetWeight <= 1))
            throw new ArgumentOutOfRangeException(nameof(imageNetWeight), $"ColorPrior.FuseWith: weight must be in [0, 1], got {imageNetWeight}.");
        var f = new double[AbBins.Count];
        for (int i = 0; i < f.Length; i++) f[i] = (1 - imageNetWeight) * _p[i] + imageNetWeight * imageNet._p[i];
        return FromProbabilities(f);
    }

    /// <summary>
    /// Class-rebalancing weights w_q = 1 / ((1 - lambda) p_q + lambda / 313), scaled so that
    /// sum_q p_q w_q = 1 (Zhang et al. 2016, Eq. 4; their code's uniform part covers the bins with
    /// p &gt; 0, which is all 313 for any smoothed prior).
    /// </summary>
    public double[] RebalancingWeights(double lambda = DefaultLambda)
    {
        if (!(lambda > 0 && lambda <= 1))
            throw new ArgumentOutOfRangeException(nameof(lambda), $"ColorPrior.RebalancingWeights: lambda must be in (0, 1], got {lambda}.");
        var w = new double[AbBins.Count];
        double expectation = 0;
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = 1.0 / ((1 - lambda) * _p[i] + lambda / AbBins.Count);
            expectation += _p[i] * w[i];
        }
        for (int i = 0; i < w.Length; i++) w[i] /= expectation;
        return w;
    }
}
