namespace ILGpuSat.Imaging.Color;

/// <summary>
/// Precomputed grid over ab (cells of 5 x 5 covering [-160, 160)^2) that lists, for each cell, the
/// only bins that can be among the k nearest of any point in that cell: bin j is kept when its
/// distance to the cell is at most the k-th smallest "farthest distance from the cell" over all
/// bins (plus a small slack for float rounding at cell edges). A query then scans a handful of
/// candidates instead of 313 (exactly one for k = 1 inside the gamut, since the cell edges fall on
/// the bins' Voronoi edges). Points outside the grid fall back to the full scan.
/// Candidates are kept in ascending bin order and ranked by (distance, index), which reproduces the
/// brute-force scan and numpy's stable argsort, ties included.
/// </summary>
internal sealed class BinGridIndex
{
    private const float Origin = -160f, Cell = 5f;
    private const int Cells = 64;
    private const double Slack = 0.01; // ab units; covers float error in the cell computation

    private readonly float[] _a, _b;
    private readonly int _k;
    private readonly int[] _start;      // CSR offsets per cell, length Cells*Cells + 1
    private readonly short[] _bins;     // candidate bins, ascending within a cell; then all bins
    private readonly int _allStart;     // offset of the all-bins list used outside the grid

    public int K => _k;

    public int MaxCandidates { get; }

    public BinGridIndex(AbBins bins, int k)
    {
        if (k < 1 || k > AbBins.Count)
            throw new ArgumentOutOfRangeException(nameof(k), $"BinGridIndex: k must be in [1, {AbBins.Count}], got {k}.");
        _a = bins.A.ToArray();
        _b = bins.B.ToArray();
        _k = k;
        _start = new int[Cells * Cells + 1];
        var list = new List<short>();
        var far = new double[AbBins.Count];
        for (int cy = 0; cy < Cells; cy++)
        for (int cx = 0; cx < Cells; cx++)
        {
            double x0 = Origin + cx * Cell, x1 = x0 + Cell, y0 = Origin + cy * Cell, y1 = y0 + Cell;
            for (int j = 0; j < AbBins.Count; j++)
            {
                double dx = Math.Max(Math.Abs(_a[j] - x0), Math.Abs(_a[j] - x1));
                double dy = Math.Max(Math.Abs(_b[j] - y0), Math.Abs(_b[j] - y1));
                far[j] = Math.Sqrt(dx * dx + dy * dy);
            }
            var sorted = (double[])far.Clone();
            Array.Sort(sorted);
            double bound = sorted[k - 1] + Slack;
            int before = list.Count;
            for (int j = 0; j < AbBins.Count; j++)
            {
                double dx = Math.Max(0, Math.Max(x0 - _a[j], _a[j] - x1));
                double dy = Math.Max(0, Math.Max(y0 - _b[j], _b[j] - y1));
                if (Math.Sqrt(dx * dx + dy * dy) <= bound) list.Add((short)j);
            }
            _start[cy * Cells + cx + 1] = list.Count;
            MaxCandidates = Math.Max(MaxCandidates, list.Count - before);
        }
        _allStart = list.Count;
        for (int j = 0; j < AbBins.Count; j++) list.Add((short)j);
        _bins = list.ToArray();
    }

    public int Nearest(float a, float b)
    {
        GetCandidates(a, b, out int s, out int e);
        int best = -1;
        float bestD = float.PositiveInfinity;
        for (int c = s; c < e; c++)
        {
            int j = _bins[c];
            float da = a - _a[j], db = b - _b[j], d = da * da + db * db;
            if (d < bestD) { bestD = d; best = j; }
        }
        return best;
    }

    /// <summary>The k nearest bins of (a, b), nearest first, with their squared distances.</summary>
    public void KNearest(float a, float b, Span<int> index, Span<float> dist2)
    {
        GetCandidates(a, b, out int s, out int e);
        int k = _k, n = 0;
        for (int c = s; c < e; c++)
        {
            int j = _bins[c];
            float da = a - _a[j], db = b - _b[j], d = da * da + db * db;
            if (n == k && d >= dist2[k - 1]) continue; // equal distance: the lower index (already in) wins
            int p = n < k ? n++ : k - 1;
            while (p > 0 && dist2[p - 1] > d) { dist2[p] = dist2[p - 1]; index[p] = index[p - 1]; p--; }
            dist2[p] = d;
            index[p] = j;
        }
    }

    private void GetCandidates(float a, float b, out int start, out int end)
    {
        float fx = (a - Origin) * (1f / Cell), fy = (b - Origin) * (1f / Cell);
        if (fx >= 0 && fy >= 0 && fx < Cells && fy < Cells)
        {
            int cell = (int)fy * Cells + (int)fx;
            start = _start[cell];
            end = _start[cell + 1];
        }
        else
        {
            if (float.IsNaN(a) || float.IsNaN(b))
                throw new ArgumentException($"AbBins: ab value ({a}, {b}) is NaN; the colour data is corrupt.");
            start = _allStart; // every bin, appended after the cell lists
            end = _allStart + AbBins.Count;
        }
    }
}
