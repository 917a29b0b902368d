namespace ILGpuSat.Kernels.Cpu.Gemm;

/// <summary>
/// Panel layouts the micro-kernels read:
/// packed A (m x kc block): panels of MR rows, each kc x MR (MR floats per k), rows past m zero;
/// packed B (kc x n block): panels of NR columns, each kc x NR (NR floats per k), columns past n zero.
/// A whole K range of A packs as consecutive kc blocks: block starting at k0 sits at k0 * RoundUp(m, MR).
/// Matrices are addressed by element strides so that transposed operands need no copy.
/// </summary>
internal static unsafe class Packing
{
    public static int RoundUp(int x, int step) => (x + step - 1) / step * step;

    /// <summary>Floats that <see cref="PackAAll"/> writes.</summary>
    public static long PackedASize(int m, int k, int mr) => (long)RoundUp(m, mr) * k;

    /// <summary>Packs all of A (m x k, A(i,p) = a[i*rs + p*cs]) as consecutive kc blocks of at most <paramref name="kcMax"/>.</summary>
    public static void PackAAll(float* dst, float* a, nint rs, nint cs, int m, int k, int mr, int kcMax)
    {
        int mPad = RoundUp(m, mr);
        for (int k0 = 0; k0 < k; k0 += kcMax)
        {
            int kc = Math.Min(kcMax, k - k0);
            PackA(dst + (long)k0 * mPad, a + k0 * cs, rs, cs, m, kc, mr);
        }
    }

    /// <summary>Packs one m x kc block of A into MR-row panels.</summary>
    public static void PackA(float* dst, float* a, nint rs, nint cs, int m, int kc, int mr)
    {
        for (int i0 = 0; i0 < m; i0 += mr)
        {
            int rows = Math.Min(mr, m - i0);
            float* panel = dst + (long)i0 * kc;
            if (cs == 1)
            {
                // Row-major A: walk each row contiguously, write with stride MR.
                for (int i = 0; i < rows; i++)
                {
                    float* src = a + (i0 + i) * rs;
                    float* d = panel + i;
                    for (int p = 0; p < kc; p++) d[p * mr] = src[p];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + i0 * rs + p * cs;
                    float* d = panel + p * mr;
                    for (int i = 0; i < rows; i++) d[i] = src[i * rs];
                }
            }
            if (rows < mr)
                for (int p = 0; p < kc; p++)
                    for (int i = rows; i < mr; i++) panel[p * mr + i] = 0;
        }
    }

    /// <summary>Packs a kc x n block of B (B(p,j) = b[p*rs + j*cs]) into NR-column panels.</summary>
    public static void PackB(float* dst, float* b, nint rs, nint cs, int kc, int n, int nr)
    {
        for (int j0 = 0; j0 < n; j0 += nr)
        {
            int cols = Math.Min(nr, n - j0);
            float* panel = dst + (long)j0 * kc;
            if (cs == 1)
            {
                for (int p = 0; p < kc; p++)
                {
                    var d = new Span<float>(panel + p * nr, nr);
                    new ReadOnlySpan<float>(b + p * rs + j0, cols).CopyTo(d);
                    if (cols < nr) d[cols..].Clear();
                }
            }
            else
            {
                // Transposed B: each column is contiguous in memory, scatter it with stride NR.
                for (int j = 0; j < cols; j++)
                {
                    float* src = b + (j0 + j) * cs;
                    float* d = panel + j;
                    for (int p = 0; p < kc; p++) d[p * nr] = src[p * rs];
                }
                if (cols < nr)
                    for (int p = 0; p < kc; p++) new Span<float>(panel + p * nr + cols, nr - cols).Clear();
            }
        }
    }
}
