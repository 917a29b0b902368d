using System.Numerics;

namespace ILGpuSat.Imaging.Color;

/// <summary>
/// Annealed-mean decoding (Zhang et al. 2016, Eq. 5): q = softmax(z / T) over the 313 bins
/// (from probabilities: q proportional to p^(1/T), i.e. z = log p), then ab = sum_q q * centre_q.
/// T = 1 gives the plain mean, T -&gt; 0 the mode; 0.38 is Zhang's choice. Input is channel-major
/// [313, n] (one CHW sample); work is vectorised across pixels in blocks.
/// </summary>
public static class AnnealedMean
{
    /// <summary>Zhang's temperature.</summary>
    public const float DefaultTemperature = 0.38f;

    private const int Block = 512;
    private const float MinProbability = 1e-30f; // log(0) guard for probability input

    /// <summary>ab of each pixel from logits [313, n].</summary>
    public static void FromLogits(ReadOnlySpan<float> logits, Span<float> a, Span<float> b,
                                  float temperature = DefaultTemperature, AbBins? bins = null) =>
        Decode(logits, a, b, temperature, bins, fromProbabilities: false);

    /// <summary>ab of each pixel from a distribution [313, n] (need not be normalised).</summary>
    public static void FromProbabilities(ReadOnlySpan<float> probabilities, Span<float> a, Span<float> b,
                                         float temperature = DefaultTemperature, AbBins? bins = null) =>
        Decode(probabilities, a, b, temperature, bins, fromProbabilities: true);

    private static void Decode(ReadOnlySpan<float> x, Span<float> aOut, Span<float> bOut, float t, AbBins? bins, bool fromProbabilities)
    {
        int n = aOut.Length;
        if (bOut.Length != n || x.Length != AbBins.Count * n)
            throw new ArgumentException($"AnnealedMean: input must be [{AbBins.Count}, n] with n = {n} output pixels; got {x.Length} values and b of {bOut.Length}.");
        if (!(t > 0)) throw new ArgumentOutOfRangeException(nameof(t), $"AnnealedMean: temperature must be positive, got {t}.");
        bins ??= AbBins.Default;
        var ca = bins.A; var cb = bins.B;
        int w = Vector<float>.Count;
        float invT = 1f / t;
        Span<float> scaled = new float[Block];
        Span<float> max = new float[Block], sum = new float[Block], sa = new float[Block], sb = new float[Block];
        for (int s = 0; s < n; s += Block)
        {
            int m = Math.Min(Block, n - s);
            int mv = m / w * w;
            max[..m].Fill(float.NegativeInfinity);
            sum[..m].Clear(); sa[..m].Clear(); sb[..m].Clear();
            for (int q = 0; q < AbBins.Count; q++)
            {
                Scale(x.Slice(q * n + s, m), scaled[..m], invT, fromProbabilities);
                int p = 0;
                for (; p < mv; p += w)
                    Vector.Max(new Vector<float>(max[p..]), new Vector<float>(scaled[p..])).CopyTo(max[p..]);
                for (; p < m; p++) max[p] = MathF.Max(max[p], scaled[p]);
            }
            for (int q = 0; q < AbBins.Count; q++)
            {
                Scale(x.Slice(q * n + s, m), scaled[..m], invT, fromProbabilities);
                var va = new Vector<float>(ca[q]);
                var vb = new Vector<float>(cb[q]);
                int p = 0;
                for (; p < mv; p += w)
                {
                    var e = Vector.Exp(new Vector<float>(scaled[p..]) - new Vector<float>(max[p..]));
                    (new Vector<float>(sum[p..]) + e).CopyTo(sum[p..]);
                    (new Vector<float>(sa[p..]) + e * va).CopyTo(sa[p..]);
                    (new Vector<float>(sb[p..]) + e * vb).CopyTo(sb[p..]);
                }
                for (; p < m; p++)
                {
                    float e = MathF.Exp(scaled[p] - max[p]);
                    sum[p] += e; sa[p] += e * ca[q]; sb[p] += e * cb[q];
                }
            }
            for (int p = 0; p < m; p++)
            {
                aOut[s + p] = sa[p] / sum[p];
                bOut[s + p] = sb[p] / sum[p];
            }
        }
    }

    // z / T for logits, log(max(p, tiny)) / T for probabilities.
    private static void Scale(ReadOnlySpan<float> src, Span<float> dst, float invT, bool log)
    {
        int w = Vector<float>.Count, p = 0;
        var vInv = new Vector<float>(invT);
        var tiny = new Vector<float>(MinProbability);
        for (; p + w <= src.Length; p += w)
        {
            var v = new Vector<float>(src[p..]);
            if (log) v = Vector.Log(Vector.Max(v, tiny));
            (v * vInv).CopyTo(dst[p..]);
        }
        for (; p < src.Length; p++)
            dst[p] = (log ? MathF.Log(MathF.Max(src[p], MinProbability)) : src[p]) * invT;
    }
}
