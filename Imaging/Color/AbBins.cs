namespace ILGpuSat.Imaging.Color;

/// <summary>
/// The 313 in-gamut ab bins of Zhang et al. 2016 (centres on a grid of step 10, in Zhang's order)
/// and constant-time nearest-bin lookup through a <see cref="BinGridIndex"/>. <see cref="Default"/>
/// is compiled in (ZhangTables.cs), so nothing is read from disk at run time.
/// </summary>
public sealed class AbBins
{
    /// <summary>Number of bins in Zhang's quantisation.</summary>
    public const int Count = 313;

    /// <summary>Spacing of the bin centres in ab units.</summary>
    public const float GridStep = 10f;

    private readonly float[] _a, _b;
    private readonly BinGridIndex _nearest;

    /// <summary>Zhang's bins (pts_in_hull), compiled in.</summary>
    public static AbBins Default { get; } = FromInterleaved(ZhangTables.BinCentres, "compiled-in pts_in_hull");

    private AbBins(float[] a, float[] b)
    {
        _a = a;
        _b = b;
        _nearest = new BinGridIndex(this, 1);
    }

    /// <summary>a coordinate of each bin centre.</summary>
    public ReadOnlySpan<float> A => _a;

    /// <summary>b coordinate of each bin centre.</summary>
    public ReadOnlySpan<float> B => _b;

    /// <summary>Bins from interleaved (a, b) centres, e.g. the 313 x 2 values of a pts_in_hull file;
    /// each value must be a grid point (integral multiple of <see cref="GridStep"/>).</summary>
    public static AbBins FromCentres(IReadOnlyList<double> interleaved, string origin)
    {
        ArgumentNullException.ThrowIfNull(interleaved);
        return FromInterleaved(interleaved.Select(v => (int)Math.Round(v)).ToArray(), origin);
    }

    private static AbBins FromInterleaved(int[] ab, string origin)
    {
        if (ab.Length != 2 * Count)
            throw new InvalidDataException($"AbBins: {origin} holds {ab.Length / 2} bins, expected {Count}.");
        var a = new float[Count];
        var b = new float[Count];
        for (int i = 0; i < Count; i++)
        {
            a[i] = ab[2 * i];
            b[i] = ab[2 * i + 1];
            if (a[i] % GridStep != 0 || b[i] % GridStep != 0)
                throw new InvalidDataException($"AbBins: {origin} bin {i} = ({a[i]}, {b[i]}) is not on the grid of step {GridStep}.");
        }
        return new AbBins(a, b);
    }

    /// <summary>Index of the bin centre nearest to (a, b); ties go to the lower index. Constant time.</summary>
    public int Nearest(float a, float b) => _nearest.Nearest(a, b);

    /// <summary>Nearest bin of every pixel of two planes.</summary>
    public void Nearest(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<int> bins)
    {
        if (a.Length != b.Length || bins.Length != a.Length)
            throw new ArgumentException($"AbBins.Nearest: plane lengths differ ({a.Length}, {b.Length} -> {bins.Length}).");
        for (int i = 0; i < a.Length; i++) bins[i] = _nearest.Nearest(a[i], b[i]);
    }

    /// <summary>Scan of all 313 centres (the definition the grid index must reproduce); for tests.</summary>
    public int NearestBruteForce(float a, float b)
    {
        int best = 0;
        float bestD = float.PositiveInfinity;
        for (int i = 0; i < Count; i++)
        {
            float da = a - _a[i], db = b - _b[i], d = da * da + db * db;
            if (d < bestD) { bestD = d; best = i; }
        }
        return best;
    }

    /// <summary>Index of the bin whose centre is exactly (a, b), or -1.</summary>
    public int IndexOf(int a, int b)
    {
        for (int i = 0; i < Count; i++)
            if (_a[i] == a && _b[i] == b) return i;
        return -1;
    }
}
