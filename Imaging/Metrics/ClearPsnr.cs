namespace ILGpuSat.Imaging.Metrics;

/// <summary>One cPSNR evaluation: the score, the HR window offset that gave it, and the brightness bias removed there.</summary>
public readonly record struct ClearPsnrResult(double CPsnr, int OffsetX, int OffsetY, double Bias, long ClearPixels, double CMse);

/// <summary>
/// The PROBA-V super-resolution challenge's score (ESA Kelvins, 2019), as its scoring page defines it. Intensities are
/// in [0, 1]. The SR image is cropped by <see cref="Border"/> pixels on each side (384 -&gt; 378); for every offset
/// (u, v) in {0 .. 2 x border}^2 (49 of them) the HR window of the cropped size at (u, v) is compared over the HR's
/// clear pixels only (status map = 1): bias b = mean(HR - SR), cMSE = mean((HR - SR - b)^2), cPSNR = -10 log10(cMSE).
/// The best offset is kept. A scene scores N / cPSNR with N the challenge baseline's cPSNR of that scene (norm.csv);
/// the mean over scenes below 1 beats the baseline. The search covers every offset of the 7 x 7 grid: a shift of the
/// full 3 pixels in both directions counts (a public reimplementation looping over 36 offsets misses it).
/// </summary>
public static class ClearPsnr
{
    /// <summary>Pixels cropped from each side of the SR image (the challenge's 3).</summary>
    public const int Border = 3;

    /// <summary>
    /// cPSNR of <paramref name="sr"/> against <paramref name="hr"/> (both width x height, row-major, [0, 1]) over
    /// the HR pixels where <paramref name="clear"/> is true. Offsets with no clear pixel in their window are skipped;
    /// an image with none at all is an error.
    /// </summary>
    public static ClearPsnrResult Compute(float[] sr, float[] hr, bool[] clear, int width, int height, int border = Border)
    {
        ArgumentNullException.ThrowIfNull(sr);
        ArgumentNullException.ThrowIfNull(hr);
        ArgumentNullException.ThrowIfNull(clear);
        long n = (long)width * height;
        if (width <= 2 * border || height <= 2 * border || border < 0)
            throw new ArgumentException($"cPSNR: a {width}x{height} image cannot lose {border} pixels on each side.");
        if (sr.Length != n || hr.Length != n || clear.Length != n)
            throw new ArgumentException($"cPSNR: SR ({sr.Length}), HR ({hr.Length}) and status map ({clear.Length}) must all hold {width}x{height} = {n} pixels.");
        int w = width - 2 * border, h = height - 2 * border;
        ClearPsnrResult? best = null;
        for (int v = 0; v <= 2 * border; v++)
            for (int u = 0; u <= 2 * border; u++)
            {
                // One pass: clear count, sum of d = HR - SR and of d^2; cMSE = E[d^2] - E[d]^2 (in double).
                long count = 0;
                double sum = 0, sumSq = 0;
                for (int y = 0; y < h; y++)
                {
                    int hrRow = (y + v) * width + u, srRow = (y + border) * width + border;
                    for (int x = 0; x < w; x++)
                    {
                        if (!clear[hrRow + x]) continue;
                        double d = (double)hr[hrRow + x] - sr[srRow + x];
                        count++;
                        sum += d;
                        sumSq += d * d;
                    }
                }
                if (count == 0) continue;
                double bias = sum / count;
                double cmse = Math.Max(0, sumSq / count - bias * bias);
                double score = -10 * Math.Log10(cmse);
                if (best is null || score > best.Value.CPsnr) best = new ClearPsnrResult(score, u, v, bias, count, cmse);
            }
        return best ?? throw new ArgumentException($"cPSNR: the status map marks no clear pixel in any of the {(2 * border + 1) * (2 * border + 1)} windows.");
    }

    /// <summary>A scene's challenge score: the baseline's cPSNR over ours (below 1 beats the baseline).</summary>
    public static double Score(double cPsnr, double baselineCPsnr)
    {
        if (!(cPsnr > 0) || !(baselineCPsnr > 0))
            throw new ArgumentException($"cPSNR score: both cPSNRs must be positive, got {cPsnr} and baseline {baselineCPsnr}.");
        return baselineCPsnr / cPsnr;
    }
}
