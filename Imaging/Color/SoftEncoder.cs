using System.Numerics;

namespace ILGpuSat.Imaging.Color;

/// <summary>
/// Soft encoding of ab over the k nearest of the 313 bins with Gaussian weights
/// exp(-d^2 / (2 sigma^2)), normalised to sum 1 (Zhang et al. 2016: k = 10 in the code, the
/// paper text and Liu et al. say 5; sigma 5). Neighbour search goes through a
/// <see cref="BinGridIndex"/>; the weights are computed as k planes over the pixels with
/// <see cref="Vector{T}"/>. Thread-safe: one instance can serve many threads.
/// </summary>
public sealed class SoftEncoder
{
    private const int Block = 256; // pixels per pass: keeps the k planes in L1

    private readonly BinGridIndex _index;
    private readonly float _negHalfInvSigma2;

    /// <summary>Encoder over <paramref name="bins"/> with <paramref name="neighbours"/> nearest bins.</summary>
    public SoftEncoder(AbBins bins, int neighbours = 5, float sigma = 5f)
    {
        ArgumentNullException.ThrowIfNull(bins);
        if (neighbours < 1 || neighbours > 32)
            throw new ArgumentOutOfRangeException(nameof(neighbours), $"SoftEncoder: neighbours must be in [1, 32], got {neighbours}.");
        if (!(sigma > 0))
            throw new ArgumentOutOfRangeException(nameof(sigma), $"SoftEncoder: sigma must be positive, got {sigma}.");
        Bins = bins;
        Neighbours = neighbours;
        Sigma = sigma;
        _index = new BinGridIndex(bins, neighbours);
        _negHalfInvSigma2 = -1f / (2f * sigma * sigma);
    }

    public AbBins Bins { get; }

    public int Neighbours { get; }

    public float Sigma { get; }

    /// <summary>
    /// Sparse form: for each pixel p and rank r &lt; k, <c>indices[r * n + p]</c> is the r-th
    /// nearest bin and <c>weights[r * n + p]</c> its normalised weight (k planes of n pixels).
    /// </summary>
    public void EncodeSparse(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<int> indices, Span<float> weights)
    {
        int n = a.Length, k = Neighbours;
        if (b.Length != n || indices.Length != k * n || weights.Length != k * n)
            throw new ArgumentException($"SoftEncoder.EncodeSparse: a, b have {a.Length}, {b.Length} pixels; indices and weights need {k} x {n}, got {indices.Length} and {weights.Length}.");
        Span<int> idx = stackalloc int[k];
        Span<float> d2 = stackalloc float[k];
        for (int p = 0; p < n; p++)
        {
            _index.KNearest(a[p], b[p], idx, d2);
            // Relative to the nearest distance: same weights after normalisation, and no underflow to
            // 0/0 for ab far outside the gamut.
            for (int r = 0; r < k; r++)
            {
                indices[r * n + p] = idx[r];
                weights[r * n + p] = d2[r] - d2[0];
            }
        }
        NormaliseGaussian(weights, n, k);
    }

    /// <summary>
    /// Dense form: <paramref name="target"/> is [313, n] (channel-major, like one CHW sample); it is
    /// fully overwritten: zeros except the k weights of each pixel.
    /// </summary>
    public void Encode(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> target)
    {
        int n = a.Length, k = Neighbours;
        if (b.Length != n || target.Length != AbBins.Count * n)
            throw new ArgumentException($"SoftEncoder.Encode: a, b have {a.Length}, {b.Length} pixels; target needs {AbBins.Count} x {n} = {AbBins.Count * n}, got {target.Length}.");
        target.Clear();
        int[] idxBuf = new int[k * Math.Min(n, Block)];
        float[] wBuf = new float[k * Math.Min(n, Block)];
        for (int s = 0; s < n; s += Block)
        {
            int m = Math.Min(Block, n - s);
            var idx = idxBuf.AsSpan(0, k * m);
            var w = wBuf.AsSpan(0, k * m);
            EncodeSparse(a.Slice(s, m), b.Slice(s, m), idx, w);
            for (int r = 0; r < k; r++)
                for (int p = 0; p < m; p++)
                    target[idx[r * m + p] * n + s + p] = w[r * m + p];
        }
    }

    // weights holds k planes of squared distances (relative to the nearest); turn them into
    // normalised Gaussian weights, vectorised across pixels.
    private void NormaliseGaussian(Span<float> weights, int n, int k)
    {
        int w = Vector<float>.Count;
        var scale = new Vector<float>(_negHalfInvSigma2);
        int p = 0;
        for (; p + w <= n; p += w)
        {
            var sum = Vector<float>.Zero;
            for (int r = 0; r < k; r++)
            {
                var e = Vector.Exp(new Vector<float>(weights[(r * n + p)..]) * scale);
                e.CopyTo(weights[(r * n + p)..]);
                sum += e;
            }
            var inv = Vector<float>.One / sum;
            for (int r = 0; r < k; r++)
                (new Vector<float>(weights[(r * n + p)..]) * inv).CopyTo(weights[(r * n + p)..]);
        }
        for (; p < n; p++)
        {
            float sum = 0;
            for (int r = 0; r < k; r++) sum += weights[r * n + p] = MathF.Exp(weights[r * n + p] * _negHalfInvSigma2);
            for (int r = 0; r < k; r++) weights[r * n + p] /= sum;
        }
    }
}
