namespace ILGpuSat.Imaging.Color;

/// <summary>
/// Counts of pixels per nearest ab bin (hard assignment, as Zhang's empirical prior). Not
/// thread-safe: give each thread its own and <see cref="Merge"/> them.
/// </summary>
public sealed class BinHistogram
{
    private readonly long[] _counts = new long[AbBins.Count];
    private readonly AbBins _bins;

    public BinHistogram(AbBins? bins = null) => _bins = bins ?? AbBins.Default;

    public ReadOnlySpan<long> Counts => _counts;

    public long Total { get; private set; }

    /// <summary>Counts every pixel of two ab planes.</summary>
    public void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"BinHistogram.Add: a has {a.Length} pixels, b has {b.Length}.");
        for (int i = 0; i < a.Length; i++) _counts[_bins.Nearest(a[i], b[i])]++;
        Total += a.Length;
    }

    /// <summary>Adds another histogram's counts into this one.</summary>
    public void Merge(BinHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Total += other.Total;
    }
}
