namespace ILGpuSat.Kernels.Cpu.Gemm;

/// <summary>Fills a kc x nc block of packed B (see <see cref="Packing"/>) from wherever B lives.</summary>
internal unsafe interface IPackB
{
    /// <summary>Packs rows [k0, k0+kc) and columns [j0, j0+nc) of B into NR-column panels at dst.</summary>
    void Pack(float* dst, int k0, int kc, int j0, int nc, int nr);
}

/// <summary>B as a strided matrix: B(p,j) = b[p*rs + j*cs].</summary>
internal readonly unsafe struct StridedB(float* b, nint rs, nint cs) : IPackB
{
    public void Pack(float* dst, int k0, int kc, int j0, int nc, int nr)
        => Packing.PackB(dst, b + k0 * rs + j0 * cs, rs, cs, kc, nc, nr);
}

/// <summary>
/// Goto/BLIS-style blocking around a micro-kernel. Loop nest for C[m x n] += A[m x k] * B[k x n]:
/// column blocks of NC (packed B block, KC x NC, stays in L2), depth blocks of KC, row blocks of MC,
/// then MR-row A micro-panels (KC x MR, in L1) against every NR-column B micro-panel.
/// </summary>
internal static unsafe class GemmCore
{
    /// <summary>Depth of one packed block: a KC x MR A micro-panel (12 KB) sits in L1.</summary>
    public const int KC = 384;
    /// <summary>Rows of A per pass over a packed B block.</summary>
    public const int MC = 192;
    /// <summary>
    /// Columns of a packed B block: KC x NC floats (~0.6 MB) fit the 1 MB L2 beside the A block
    /// (KC 384 / NC 384 measured a few percent over 256 / 480 on the 2048^3 SGEMM and the convolutions).
    /// </summary>
    public const int NC = 384;

    /// <summary>
    /// C[m x n] (row stride ldc) = (accumulate ? C : rowBias) + A * B, single-threaded. A is packed in
    /// full (<see cref="Packing.PackAAll"/> with <see cref="KC"/>); B is packed block by block by
    /// <paramref name="b"/> into this thread's scratch.
    /// </summary>
    public static void GemmPackedA<TB>(in MicroKernel mk, int m, int n, int k, float* packedA, ref TB b,
        float* c, nint ldc, bool accumulate, float* rowBias) where TB : struct, IPackB
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++)
                    new Span<float>(c + i * ldc, n).Fill(rowBias == null ? 0f : rowBias[i]);
            return;
        }
        int mr = mk.MR, nr = mk.NR;
        int mPad = Packing.RoundUp(m, mr);
        int ncMax = Math.Min(n, NC);
        float* pb = Scratch.Get(Scratch.Slot.PackB, (long)Math.Min(k, KC) * Packing.RoundUp(ncMax, nr));
        for (int j0 = 0; j0 < n; j0 += NC)
        {
            int nc = Math.Min(NC, n - j0);
            for (int k0 = 0; k0 < k; k0 += KC)
            {
                int kc = Math.Min(KC, k - k0);
                b.Pack(pb, k0, kc, j0, nc, nr);
                bool loadC = accumulate || k0 > 0;
                float* blockA = packedA + (long)k0 * mPad;
                for (int i0 = 0; i0 < m; i0 += MC)
                {
                    int mc = Math.Min(MC, m - i0);
                    Macro(mk, mc, nc, kc, blockA + (long)i0 * kc, pb, c + i0 * ldc + j0, ldc, loadC,
                        loadC || rowBias == null ? null : rowBias + i0);
                }
            }
        }
    }

    /// <summary>
    /// C[mc x nc] = (loadC ? C : rowBias ?? 0) + packed A block * packed B block. Edge tiles go
    /// through a full-size tile on the stack so the micro-kernel never reads or writes out of bounds.
    /// </summary>
    public static void Macro(in MicroKernel mk, int mc, int nc, int kc, float* pa, float* pb, float* c, nint ldc,
        bool loadC, float* rowBias)
    {
        int mr = mk.MR, nr = mk.NR;
        float* tile = stackalloc float[mr * nr];
        float* tileBias = stackalloc float[mr];
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* a = pa + (long)ir * kc;
            float* bias = rowBias == null ? null : rowBias + ir;
            if (bias != null && rows < mr)
            {
                for (int i = 0; i < mr; i++) tileBias[i] = i < rows ? bias[i] : 0f;
                bias = tileBias;
            }
            for (int jr = 0; jr < nc; jr += nr)
            {
                int cols = Math.Min(nr, nc - jr);
                float* b = pb + (long)jr * kc;
                float* cc = c + ir * ldc + jr;
                if (rows == mr && cols == nr)
                {
                    mk.Run(kc, a, b, cc, ldc, loadC, bias);
                    continue;
                }
                if (loadC)
                    for (int i = 0; i < rows; i++)
                        new ReadOnlySpan<float>(cc + i * ldc, cols).CopyTo(new Span<float>(tile + i * nr, cols));
                mk.Run(kc, a, b, tile, nr, loadC, bias);
                for (int i = 0; i < rows; i++)
                    new ReadOnlySpan<float>(tile + i * nr, cols).CopyTo(new Span<float>(cc + i * ldc, cols));
            }
        }
    }
}

/// <summary>Runs numbered work items on up to <c>threads</c> threads, handing items out one at a time.</summary>
internal static class ParallelWork
{
    public static void Run(int threads, int items, Action<int> body)
    {
        if (items <= 0) return;
        int workers = Math.Min(threads, items);
        if (workers <= 1)
        {
            for (int i = 0; i < items; i++) body(i);
            return;
        }
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < items) body(i);
        });
    }
}
