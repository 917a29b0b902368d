using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGpuSat.Kernels.Cpu.Gemm;

namespace ILGpuSat.Kernels.Cpu.Conv;

/// <summary>
/// Register-blocked dot products for the weight gradient, dW[o, r] += sum_p dY[o, p] col[r, p]:
/// both operands are row-contiguous along the pixel axis, so instead of packing (a transpose of
/// each, which costs as much as the math when O is small) the kernel keeps a tile of vector
/// accumulators along p and reduces them horizontally once per pixel chunk.
/// </summary>
internal static unsafe class DotKernels
{
    /// <summary>Follows the GEMM micro-kernel choice, so one switch selects the AVX2 or portable path everywhere.</summary>
    public static bool Wide => MicroKernel.Best.IsAvx512;
    private static bool Avx2Tiles => MicroKernel.Best.Kind == SgemmKernel.Avx2;
    /// <summary>
    /// Tile rows (of a / dY), tile columns (rows of b / col), and the vector width every length must be a multiple of.
    /// AVX2: 4x3, so 12 accumulators + 3 col vectors + 1 dY vector fill the 16 ymm registers exactly,
    /// and 4 divides the usual channel counts (a 3-row tile leaves a slow 1-row edge of every 64).
    /// </summary>
    public static int TileM => Wide ? 4 : Avx2Tiles ? 4 : 3;
    public static int TileN => Wide ? 6 : Avx2Tiles ? 3 : 4;
    public static int Width => Wide ? 16 : Avx2Tiles ? 8 : Vector<float>.Count;

    /// <summary>c[i*ldc + j] += dot(a row i, b row j) for i &lt; mr, j &lt; nr; len is a multiple of <see cref="Width"/>.</summary>
    public static void Tile(int len, float* a, nint lda, int mr, float* b, nint ldb, int nr, float* c, nint ldc)
    {
        if (Wide && mr == 4 && nr == 6) Tile4x6(len, a, lda, b, ldb, c, ldc);
        else if (Avx2Tiles && mr == 4 && nr == 3) Tile4x3Avx2(len, a, lda, b, ldb, c, ldc);
        else if (!Wide && !Avx2Tiles && mr == 3 && nr == 4) Tile3x4(len, a, lda, b, ldb, c, ldc);
        else if (Wide)
            // Edge tiles (few output channels, e.g. a final 32->1 conv): one row at a time, still 6 accumulators.
            for (int i = 0; i < mr; i++) Row1x6(len, a + i * lda, b, ldb, nr, c + i * ldc);
        else
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < nr; j++)
                    c[i * ldc + j] += Dot(len, a + i * lda, b + j * ldb);
    }

    /// <summary>
    /// c[i*ldc + j] += dot(a row i, b row j) over len floats (a multiple of 8) for a 4x3 tile with
    /// AVX2: the three b vectors stay in registers while each a row is loaded once and used three times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x3Avx2(int len, float* a, nint lda, float* b, nint ldb, float* c, nint ldc)
    {
        Vector256<float> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
        Vector256<float> s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        float* b0 = b, b1 = b + ldb, b2 = b + 2 * ldb;
        for (int p = 0; p < len; p += 8)
        {
            Vector256<float> y0 = Vector256.Load(b0 + p);
            Vector256<float> y1 = Vector256.Load(b1 + p);
            Vector256<float> y2 = Vector256.Load(b2 + p);
            Vector256<float> x = Vector256.Load(a0 + p);
            s00 = Vector256.FusedMultiplyAdd(x, y0, s00);
            s01 = Vector256.FusedMultiplyAdd(x, y1, s01);
            s02 = Vector256.FusedMultiplyAdd(x, y2, s02);
            x = Vector256.Load(a1 + p);
            s10 = Vector256.FusedMultiplyAdd(x, y0, s10);
            s11 = Vector256.FusedMultiplyAdd(x, y1, s11);
            s12 = Vector256.FusedMultiplyAdd(x, y2, s12);
            x = Vector256.Load(a2 + p);
            s20 = Vector256.FusedMultiplyAdd(x, y0, s20);
            s21 = Vector256.FusedMultiplyAdd(x, y1, s21);
            s22 = Vector256.FusedMultiplyAdd(x, y2, s22);
            x = Vector256.Load(a3 + p);
            s30 = Vector256.FusedMultiplyAdd(x, y0, s30);
            s31 = Vector256.FusedMultiplyAdd(x, y1, s31);
            s32 = Vector256.FusedMultiplyAdd(x, y2, s32);
        }
        Add4(Sum4(s00, s10, s20, s30), c + 0, ldc);
        Add4(Sum4(s01, s11, s21, s31), c + 1, ldc);
        Add4(Sum4(s02, s12, s22, s32), c + 2, ldc);
    }

    /// <summary>(sum a, sum b, sum c, sum d) of 8-lane vectors with three horizontal adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var abcd = Avx.HorizontalAdd(Avx.HorizontalAdd(a, b), Avx.HorizontalAdd(c, d)); // lanes i and i+4 hold the two halves of sum i
        return abcd.GetLower() + abcd.GetUpper();
    }

    /// <summary>c[j] += dot(a, b row j) for j &lt; nr (at most 6); missing rows re-read row 0 and are dropped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1x6(int len, float* a, float* b, nint ldb, int nr, float* c)
    {
        float* b0 = b, b1 = nr > 1 ? b + ldb : b, b2 = nr > 2 ? b + 2 * ldb : b;
        float* b3 = nr > 3 ? b + 3 * ldb : b, b4 = nr > 4 ? b + 4 * ldb : b, b5 = nr > 5 ? b + 5 * ldb : b;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        for (int p = 0; p < len; p += 16)
        {
            var x = Vector512.Load(a + p);
            s0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b0 + p), s0);
            s1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + p), s1);
            s2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + p), s2);
            s3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + p), s3);
            s4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b4 + p), s4);
            s5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b5 + p), s5);
        }
        var sums = Sum4(s0, s1, s2, s3);
        for (int j = 0; j < Math.Min(nr, 4); j++) c[j] += sums.GetElement(j);
        if (nr > 4) c[4] += Vector512.Sum(s4);
        if (nr > 5) c[5] += Vector512.Sum(s5);
    }

    /// <summary>(sum a, sum b, sum c, sum d) with three horizontal adds instead of four full reductions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        var ab = Avx.HorizontalAdd(a.GetLower() + a.GetUpper(), b.GetLower() + b.GetUpper());
        var cd = Avx.HorizontalAdd(c.GetLower() + c.GetUpper(), d.GetLower() + d.GetUpper());
        var abcd = Avx.HorizontalAdd(ab, cd); // lanes i and i+4 hold the two halves of sum i
        return abcd.GetLower() + abcd.GetUpper();
    }

    /// <summary>c[i*ldc] += v[i] for the four rows of a tile column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add4(Vector128<float> v, float* c, nint ldc)
    {
        c[0] += v.GetElement(0);
        c[ldc] += v.GetElement(1);
        c[2 * ldc] += v.GetElement(2);
        c[3 * ldc] += v.GetElement(3);
    }

    private static float Dot(int len, float* a, float* b)
    {
        var s = Vector<float>.Zero;
        int w = Vector<float>.Count;
        for (int p = 0; p < len; p += w) s = Vector.FusedMultiplyAdd(Vector.Load(a + p), Vector.Load(b + p), s);
        return Vector.Sum(s);
    }

    /// <summary>c[i*ldc + j] += dot(a row i, b row j) over len floats (a multiple of 16) for a 4x6 tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x6(int len, float* a, nint lda, float* b, nint ldb, float* c, nint ldc)
    {
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s04 = default, s05 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default, s20 = default, s21 = default, s22 = default, s23 = default, s24 = default, s25 = default, s30 = default, s31 = default, s32 = default, s33 = default, s34 = default, s35 = default;
        float* a0 = a;
        float* a1 = a + 1 * lda;
        float* a2 = a + 2 * lda;
        float* a3 = a + 3 * lda;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        float* b4 = b + 4 * ldb;
        float* b5 = b + 5 * ldb;
        for (int p = 0; p < len; p += 16)
        {
            Vector512<float> y0 = Vector512.Load(b0 + p);
            Vector512<float> y1 = Vector512.Load(b1 + p);
            Vector512<float> y2 = Vector512.Load(b2 + p);
            Vector512<float> y3 = Vector512.Load(b3 + p);
            Vector512<float> y4 = Vector512.Load(b4 + p);
            Vector512<float> y5 = Vector512.Load(b5 + p);
            Vector512<float> x0 = Vector512.Load(a0 + p);
            s00 = Vector512.FusedMultiplyAdd(x0, y0, s00);
            s01 = Vector512.FusedMultiplyAdd(x0, y1, s01);
            s02 = Vector512.FusedMultiplyAdd(x0, y2, s02);
            s03 = Vector512.FusedMultiplyAdd(x0, y3, s03);
            s04 = Vector512.FusedMultiplyAdd(x0, y4, s04);
            s05 = Vector512.FusedMultiplyAdd(x0, y5, s05);
            Vector512<float> x1 = Vector512.Load(a1 + p);
            s10 = Vector512.FusedMultiplyAdd(x1, y0, s10);
            s11 = Vector512.FusedMultiplyAdd(x1, y1, s11);
            s12 = Vector512.FusedMultiplyAdd(x1, y2, s12);
            s13 = Vector512.FusedMultiplyAdd(x1, y3, s13);
            s14 = Vector512.FusedMultiplyAdd(x1, y4, s14);
            s15 = Vector512.FusedMultiplyAdd(x1, y5, s15);
            Vector512<float> x2 = Vector512.Load(a2 + p);
            s20 = Vector512.FusedMultiplyAdd(x2, y0, s20);
            s21 = Vector512.FusedMultiplyAdd(x2, y1, s21);
            s22 = Vector512.FusedMultiplyAdd(x2, y2, s22);
            s23 = Vector512.FusedMultiplyAdd(x2, y3, s23);
            s24 = Vector512.FusedMultiplyAdd(x2, y4, s24);
            s25 = Vector512.FusedMultiplyAdd(x2, y5, s25);
            Vector512<float> x3 = Vector512.Load(a3 + p);
            s30 = Vector512.FusedMultiplyAdd(x3, y0, s30);
            s31 = Vector512.FusedMultiplyAdd(x3, y1, s31);
            s32 = Vector512.FusedMultiplyAdd(x3, y2, s32);
            s33 = Vector512.FusedMultiplyAdd(x3, y3, s33);
            s34 = Vector512.FusedMultiplyAdd(x3, y4, s34);
            s35 = Vector512.FusedMultiplyAdd(x3, y5, s35);
        }
        Add4(Sum4(s00, s10, s20, s30), c + 0, ldc);
        Add4(Sum4(s01, s11, s21, s31), c + 1, ldc);
        Add4(Sum4(s02, s12, s22, s32), c + 2, ldc);
        Add4(Sum4(s03, s13, s23, s33), c + 3, ldc);
        Add4(Sum4(s04, s14, s24, s34), c + 4, ldc);
        Add4(Sum4(s05, s15, s25, s35), c + 5, ldc);
    }

    /// <summary>c[i*ldc + j] += dot(a row i, b row j) over len floats (a multiple of W) for a 3x4 tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile3x4(int len, float* a, nint lda, float* b, nint ldb, float* c, nint ldc)
    {
        int W = Vector<float>.Count;
        Vector<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default, s20 = default, s21 = default, s22 = default, s23 = default;
        float* a0 = a;
        float* a1 = a + 1 * lda;
        float* a2 = a + 2 * lda;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        for (int p = 0; p < len; p += W)
        {
            Vector<float> y0 = Vector.Load(b0 + p);
            Vector<float> y1 = Vector.Load(b1 + p);
            Vector<float> y2 = Vector.Load(b2 + p);
            Vector<float> y3 = Vector.Load(b3 + p);
            Vector<float> x0 = Vector.Load(a0 + p);
            s00 = Vector.FusedMultiplyAdd(x0, y0, s00);
            s01 = Vector.FusedMultiplyAdd(x0, y1, s01);
            s02 = Vector.FusedMultiplyAdd(x0, y2, s02);
            s03 = Vector.FusedMultiplyAdd(x0, y3, s03);
            Vector<float> x1 = Vector.Load(a1 + p);
            s10 = Vector.FusedMultiplyAdd(x1, y0, s10);
            s11 = Vector.FusedMultiplyAdd(x1, y1, s11);
            s12 = Vector.FusedMultiplyAdd(x1, y2, s12);
            s13 = Vector.FusedMultiplyAdd(x1, y3, s13);
            Vector<float> x2 = Vector.Load(a2 + p);
            s20 = Vector.FusedMultiplyAdd(x2, y0, s20);
            s21 = Vector.FusedMultiplyAdd(x2, y1, s21);
            s22 = Vector.FusedMultiplyAdd(x2, y2, s22);
            s23 = Vector.FusedMultiplyAdd(x2, y3, s23);
        }
        c[0] += Vector.Sum(s00); c[1] += Vector.Sum(s01); c[2] += Vector.Sum(s02); c[3] += Vector.Sum(s03);
        c[1 * ldc + 0] += Vector.Sum(s10); c[1 * ldc + 1] += Vector.Sum(s11); c[1 * ldc + 2] += Vector.Sum(s12); c[1 * ldc + 3] += Vector.Sum(s13);
        c[2 * ldc + 0] += Vector.Sum(s20); c[2 * ldc + 1] += Vector.Sum(s21); c[2 * ldc + 2] += Vector.Sum(s22); c[2 * ldc + 3] += Vector.Sum(s23);
    }}
