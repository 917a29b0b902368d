namespace ILGpuSat.Training.Data;

/// <summary>
/// The 8 symmetries of a square (dihedral group D4), the paper's "4 rotations x mirror" augmentation.
/// Map d (0..7) = optional left-right mirror (d &gt;= 4) followed by d % 4 quarter turns
/// counter-clockwise, with numpy's conventions: d = k is np.rot90(x, k), d = 4 + k is
/// np.rot90(np.fliplr(x), k). d = 0 is the identity.
/// </summary>
public static class Dihedral
{
    public const int Count = 8;

    /// <summary>Writes the transformed n x n plane into <paramref name="dst"/> (which must not alias src).</summary>
    public static void Apply(ReadOnlySpan<float> src, Span<float> dst, int n, int map)
    {
        if ((uint)map >= Count) throw new ArgumentOutOfRangeException(nameof(map), $"Dihedral.Apply: map must be 0..7, got {map}.");
        if (src.Length != n * n || dst.Length != n * n)
            throw new ArgumentException($"Dihedral.Apply: planes must be {n}x{n} = {n * n}, got {src.Length} and {dst.Length}.");
        int m = n - 1;
        bool mirror = map >= 4;
        switch (map & 3)
        {
            case 0: // r[i,j] = x[i,j]
                for (int i = 0; i < n; i++)
                {
                    var row = src.Slice(i * n, n);
                    var outRow = dst.Slice(i * n, n);
                    if (!mirror) row.CopyTo(outRow);
                    else for (int j = 0; j < n; j++) outRow[j] = row[m - j];
                }
                break;
            case 1: // r[i,j] = x[j, n-1-i]
                for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    dst[i * n + j] = src[j * n + Col(m - i, mirror, m)];
                break;
            case 2: // r[i,j] = x[n-1-i, n-1-j]
                for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    dst[i * n + j] = src[(m - i) * n + Col(m - j, mirror, m)];
                break;
            default: // r[i,j] = x[n-1-j, i]
                for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    dst[i * n + j] = src[(m - j) * n + Col(i, mirror, m)];
                break;
        }
    }

    // Column of the (possibly mirrored) source.
    private static int Col(int c, bool mirror, int m) => mirror ? m - c : c;
}
