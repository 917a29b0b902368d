namespace ILGpuSat.Kernels.Cpu.Gemm;

/// <summary>
/// Single-precision matrix multiply on row-major spans: C = op(A) * op(B) (+ C), cache-blocked
/// and packed around a register-blocked FMA micro-kernel, split over threads by blocks of C.
/// </summary>
public static unsafe class Sgemm
{
    /// <summary>
    /// Micro-kernel used by the convolutions and by <see cref="Multiply"/> calls that pass
    /// <see cref="SgemmKernel.Auto"/>. Tests set <see cref="SgemmKernel.Portable"/> to check the
    /// fallback path on AVX-512 hardware.
    /// </summary>
    public static SgemmKernel DefaultKernel
    {
        get => _defaultKernel;
        set
        {
            MicroKernel.Resolve(value); // throws if the hardware cannot run it
            _defaultKernel = value;
        }
    }

    private static SgemmKernel _defaultKernel = SgemmKernel.Auto;

    /// <summary>
    /// C[m x n] (row stride ldc) = op(A)[m x k] * op(B)[k x n], plus the old C when
    /// <paramref name="accumulate"/>. A is m x k with row stride lda, or k x m when
    /// <paramref name="transposeA"/>; B likewise k x n or n x k.
    /// </summary>
    public static void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transposeA,
        ReadOnlySpan<float> b, int ldb, bool transposeB,
        Span<float> c, int ldc, bool accumulate = false, int threads = 1, SgemmKernel kernel = SgemmKernel.Auto)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"sgemm: sizes must be non-negative, got m={m} n={n} k={k}.");
        Check("A", a.Length, transposeA ? k : m, transposeA ? m : k, lda, transposeA, m, n, k);
        Check("B", b.Length, transposeB ? n : k, transposeB ? k : n, ldb, transposeB, m, n, k);
        Check("C", c.Length, m, n, ldc, false, m, n, k);
        if (m == 0 || n == 0) return;
        var mk = MicroKernel.Resolve(kernel == SgemmKernel.Auto ? DefaultKernel : kernel);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            Run(mk, m, n, k, pa, transposeA ? 1 : lda, transposeA ? lda : 1,
                pb, transposeB ? 1 : ldb, transposeB ? ldb : 1, pc, ldc, accumulate, Math.Max(1, threads));
        }
    }

    private static void Check(string name, int length, int rows, int cols, int ld, bool transposed, int m, int n, int k)
    {
        string what = $"sgemm (m={m}, n={n}, k={k}): {name}{(transposed ? " (transposed)" : "")} is {rows}x{cols} with row stride {ld}";
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"{what}: the row stride must be at least {Math.Max(1, cols)}.");
        long need = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{what}: needs {need} floats, the span holds {length}.");
    }

    /// <summary>
    /// The strided core: A(i,p) = a[i*rsA + p*csA], B(p,j) = b[p*rsB + j*csB]. Work items are
    /// (row block, column block) tiles of C; each packs its own rows of A and its columns of B.
    /// </summary>
    internal static void Run(MicroKernel mk, int m, int n, int k, float* a, nint rsA, nint csA,
        float* b, nint rsB, nint csB, float* c, nint ldc, bool accumulate, int threads)
    {
        // Row blocks as tall as the L2 blocking allows; when that leaves fewer tiles than threads,
        // cut the columns finer (in whole micro-panels) so every thread has work.
        int mTask = Packing.RoundUp(Math.Min(m, 2 * GemmCore.MC), mk.MR);
        int mBlocks = (m + mTask - 1) / mTask;
        int nTask = GemmCore.NC;
        int nBlocks = (n + nTask - 1) / nTask;
        if (mBlocks * nBlocks < threads && n > mk.NR)
        {
            int want = (threads + mBlocks - 1) / mBlocks;
            nTask = Packing.RoundUp((n + want - 1) / want, mk.NR);
            nBlocks = (n + nTask - 1) / nTask;
        }
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        ParallelWork.Run(threads, mBlocks * nBlocks, t =>
        {
            int i0 = t / nBlocks * mTask, j0 = t % nBlocks * nTask;
            int mc = Math.Min(mTask, m - i0), nc = Math.Min(nTask, n - j0);
            float* packedA = Scratch.Get(Scratch.Slot.PackA, Packing.PackedASize(mc, k, mk.MR));
            Packing.PackAAll(packedA, (float*)pa + i0 * rsA, rsA, csA, mc, k, mk.MR, GemmCore.KC);
            var packB = new StridedB((float*)pb + j0 * csB, rsB, csB);
            GemmCore.GemmPackedA(mk, mc, nc, k, packedA, ref packB, (float*)pc + i0 * ldc + j0, ldc, accumulate, null);
        });
    }
}
