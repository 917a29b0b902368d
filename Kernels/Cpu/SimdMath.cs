using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

[assembly: InternalsVisibleTo("ILGpuSat.Kernels.Tests")] // the exp accuracy test

namespace ILGpuSat.Kernels.Cpu;

/// <summary>An elementwise function of one input, in vector and scalar (tail) form.</summary>
internal interface IUnaryMap
{
    Vector512<float> Apply(Vector512<float> x);
    Vector256<float> Apply(Vector256<float> x);
    float Apply(float x);
}

/// <summary>An elementwise function of two inputs, in vector and scalar (tail) form.</summary>
internal interface IBinaryMap
{
    Vector512<float> Apply(Vector512<float> a, Vector512<float> b);
    Vector256<float> Apply(Vector256<float> a, Vector256<float> b);
    float Apply(float a, float b);
}

/// <summary>
/// AVX-512 loops shared by the CPU kernels: elementwise maps, reductions and exp/log, each with
/// an AVX2 (Vector256) form taken where Vector512 is not hardware-accelerated (the JIT drops the
/// other branch). Accurate reductions: each lane sums at most 32 floats in single precision before
/// the block total of <see cref="FlushBlock"/> elements is widened and added in double, so a sum
/// of millions of floats keeps about 1e-7 relative error.
/// </summary>
internal static class SimdMath
{
    public const int W = 16; // Vector512<float>.Count
    private const int FlushBlock = 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float r, int i) => Vector512.LoadUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> v, ref float r, int i) => v.StoreUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref float At(float[] a) => ref MemoryMarshal.GetArrayDataReference(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Widen(Vector512<float> v)
        => Vector512.Sum(Vector512.WidenLower(v) + Vector512.WidenUpper(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Widen(Vector256<float> v)
        => Vector256.Sum(Vector256.WidenLower(v) + Vector256.WidenUpper(v));

    /// <summary>Whether the loops below take their 256-bit form.</summary>
    private static bool Use256 => !Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated;

    /// <summary>8 floats at r + i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load8(ref float r, int i) => Vector256.LoadUnsafe(ref r, (nuint)i);

    /// <summary>y[i] = op(x[i]) for i in [start, end); x and y may be the same array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static void Map<T>(T op, float[] x, float[] y, int start, int end) where T : struct, IUnaryMap
    {
        ref float rx = ref At(x);
        ref float ry = ref At(y);
        int i = start;
        if (Use256)
            for (; i <= end - 8; i += 8) op.Apply(Load8(ref rx, i)).StoreUnsafe(ref ry, (nuint)i);
        else
            for (; i <= end - W; i += W) Store(op.Apply(Load(ref rx, i)), ref ry, i);
        for (; i < end; i++) Unsafe.Add(ref ry, i) = op.Apply(Unsafe.Add(ref rx, i));
    }

    /// <summary>y[i] = op(a[i], b[i]) for i in [start, end); y may alias a or b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static void Map<T>(T op, float[] a, float[] b, float[] y, int start, int end) where T : struct, IBinaryMap
    {
        ref float ra = ref At(a);
        ref float rb = ref At(b);
        ref float ry = ref At(y);
        int i = start;
        if (Use256)
            for (; i <= end - 8; i += 8) op.Apply(Load8(ref ra, i), Load8(ref rb, i)).StoreUnsafe(ref ry, (nuint)i);
        else
            for (; i <= end - W; i += W) Store(op.Apply(Load(ref ra, i), Load(ref rb, i)), ref ry, i);
        for (; i < end; i++) Unsafe.Add(ref ry, i) = op.Apply(Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i));
    }

    /// <summary>Sum of x[start..end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static double Sum(float[] x, int start, int end)
    {
        ref float r = ref At(x);
        double total = 0;
        int i = start;
        while (Use256 && end - i >= 32)
        {
            int stop = i + Math.Min(FlushBlock, (end - i) / 32 * 32);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i < stop; i += 32)
            {
                a0 += Load8(ref r, i);
                a1 += Load8(ref r, i + 8);
                a2 += Load8(ref r, i + 16);
                a3 += Load8(ref r, i + 24);
            }
            total += Widen((a0 + a1) + (a2 + a3));
        }
        while (end - i >= 4 * W)
        {
            int stop = i + Math.Min(FlushBlock, (end - i) / (4 * W) * (4 * W));
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i < stop; i += 4 * W)
            {
                a0 += Load(ref r, i);
                a1 += Load(ref r, i + W);
                a2 += Load(ref r, i + 2 * W);
                a3 += Load(ref r, i + 3 * W);
            }
            total += Widen((a0 + a1) + (a2 + a3));
        }
        for (; i < end; i++) total += Unsafe.Add(ref r, i);
        return total;
    }

    /// <summary>Sum of (x - shift)^2 over [start, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static double SumSquares(float[] x, int start, int end, float shift = 0)
    {
        ref float r = ref At(x);
        var s = Vector512.Create(shift);
        double total = 0;
        int i = start;
        while (Use256 && end - i >= 32)
        {
            var s8 = Vector256.Create(shift);
            int stop = i + Math.Min(FlushBlock, (end - i) / 32 * 32);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i < stop; i += 32)
            {
                var d0 = Load8(ref r, i) - s8; a0 = Vector256.FusedMultiplyAdd(d0, d0, a0);
                var d1 = Load8(ref r, i + 8) - s8; a1 = Vector256.FusedMultiplyAdd(d1, d1, a1);
                var d2 = Load8(ref r, i + 16) - s8; a2 = Vector256.FusedMultiplyAdd(d2, d2, a2);
                var d3 = Load8(ref r, i + 24) - s8; a3 = Vector256.FusedMultiplyAdd(d3, d3, a3);
            }
            total += Widen((a0 + a1) + (a2 + a3));
        }
        while (end - i >= 4 * W)
        {
            int stop = i + Math.Min(FlushBlock, (end - i) / (4 * W) * (4 * W));
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i < stop; i += 4 * W)
            {
                var d0 = Load(ref r, i) - s; a0 = Vector512.FusedMultiplyAdd(d0, d0, a0);
                var d1 = Load(ref r, i + W) - s; a1 = Vector512.FusedMultiplyAdd(d1, d1, a1);
                var d2 = Load(ref r, i + 2 * W) - s; a2 = Vector512.FusedMultiplyAdd(d2, d2, a2);
                var d3 = Load(ref r, i + 3 * W) - s; a3 = Vector512.FusedMultiplyAdd(d3, d3, a3);
            }
            total += Widen((a0 + a1) + (a2 + a3));
        }
        for (; i < end; i++)
        {
            double d = Unsafe.Add(ref r, i) - shift;
            total += d * d;
        }
        return total;
    }

    /// <summary>Elements per sub-block of <see cref="MeanAndM2"/>: 16 KB, so the second pass reads L1.</summary>
    private const int MomentBlock = 4096;

    /// <summary>
    /// Mean and sum of squared deviations (M2) of x[start..end), accurate however large |mean| is
    /// against the spread: each L1-sized sub-block is summed, then its squared deviations are taken
    /// about its own mean (the second read hits L1), and sub-blocks are merged with Chan et al.'s
    /// pairwise update in double.
    /// </summary>
    public static (double Mean, double M2) MeanAndM2(float[] x, int start, int end)
    {
        double n = 0, mean = 0, m2 = 0;
        for (int s = start; s < end; s += MomentBlock)
        {
            int e = Math.Min(end, s + MomentBlock), nb = e - s;
            double bMean = Sum(x, s, e) / nb;
            float centre = (float)bMean;
            // Sum (x - c)^2 = M2 + nb (mean - c)^2 removes the rounding of the centre to float.
            double dc = bMean - centre;
            double bM2 = Math.Max(SumSquares(x, s, e, centre) - nb * dc * dc, 0.0);
            double delta = bMean - mean, total = n + nb;
            mean += delta * nb / total;
            m2 += bM2 + delta * delta * n * nb / total;
            n = total;
        }
        return (mean, m2);
    }

    /// <summary>Sum of dy and of dy * (x - shift) over [start, end) in one pass (batch-norm gradients).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static (double SumDy, double SumDyX) SumAndDot(float[] dy, float[] x, int start, int end, float shift)
    {
        ref float rd = ref At(dy);
        ref float rx = ref At(x);
        var s = Vector512.Create(shift);
        double s1 = 0, s2 = 0;
        int i = start;
        while (Use256 && end - i >= 16)
        {
            // Two 8-lane accumulators: half the block keeps each lane's float sum at 32 terms.
            var s8 = Vector256.Create(shift);
            int stop = i + Math.Min(FlushBlock / 2, (end - i) / 16 * 16);
            Vector256<float> a0 = default, a1 = default, q0 = default, q1 = default;
            for (; i < stop; i += 16)
            {
                var g0 = Load8(ref rd, i);
                var g1 = Load8(ref rd, i + 8);
                a0 += g0; a1 += g1;
                q0 = Vector256.FusedMultiplyAdd(g0, Load8(ref rx, i) - s8, q0);
                q1 = Vector256.FusedMultiplyAdd(g1, Load8(ref rx, i + 8) - s8, q1);
            }
            s1 += Widen(a0 + a1);
            s2 += Widen(q0 + q1);
        }
        while (end - i >= 2 * W)
        {
            int stop = i + Math.Min(FlushBlock, (end - i) / (2 * W) * (2 * W));
            Vector512<float> a0 = default, a1 = default, q0 = default, q1 = default;
            for (; i < stop; i += 2 * W)
            {
                var g0 = Load(ref rd, i);
                var g1 = Load(ref rd, i + W);
                a0 += g0; a1 += g1;
                q0 = Vector512.FusedMultiplyAdd(g0, Load(ref rx, i) - s, q0);
                q1 = Vector512.FusedMultiplyAdd(g1, Load(ref rx, i + W) - s, q1);
            }
            s1 += Widen(a0 + a1);
            s2 += Widen(q0 + q1);
        }
        for (; i < end; i++)
        {
            double g = Unsafe.Add(ref rd, i);
            s1 += g;
            s2 += g * (Unsafe.Add(ref rx, i) - shift);
        }
        return (s1, s2);
    }

    /// <summary>Sum of (a - b)^2 over [start, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static double SumSquaredDifference(float[] a, float[] b, int start, int end)
    {
        ref float ra = ref At(a);
        ref float rb = ref At(b);
        double total = 0;
        int i = start;
        while (end - i >= 2 * W)
        {
            int stop = i + Math.Min(FlushBlock, (end - i) / (2 * W) * (2 * W));
            Vector512<float> a0 = default, a1 = default;
            for (; i < stop; i += 2 * W)
            {
                var d0 = Load(ref ra, i) - Load(ref rb, i);
                var d1 = Load(ref ra, i + W) - Load(ref rb, i + W);
                a0 = Vector512.FusedMultiplyAdd(d0, d0, a0);
                a1 = Vector512.FusedMultiplyAdd(d1, d1, a1);
            }
            total += Widen(a0 + a1);
        }
        for (; i < end; i++)
        {
            double d = (double)Unsafe.Add(ref ra, i) - Unsafe.Add(ref rb, i);
            total += d * d;
        }
        return total;
    }

    /// <summary>
    /// e^x per lane to about half an ulp (0.53 ulp measured over the normal range, exact at 0):
    /// the 32-entry table method with AVX-512, the 8-entry one on each half with AVX2 + FMA, else
    /// evaluation in double. Accurate enough that softmax and cross-entropy match a double
    /// reference to float rounding; the runtime's Vector512.Exp is up to ~1.8 ulp and gives
    /// e^0 = 1 + 1 ulp. Overflow gives +inf, underflow 0, NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
        => Avx512F.IsSupported ? ExpTable(x)
        : HasAvx2Fma ? Vector512.Create(ExpTable8(x.GetLower()), ExpTable8(x.GetUpper()))
        : ExpViaDouble(x);

    /// <summary>e^x per lane, 8 lanes, as accurate as the 16-lane <see cref="Exp(Vector512{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
        => HasAvx2Fma ? ExpTable8(x) : ExpViaDouble(Vector512.Create(x, x)).GetLower();

    /// <summary>The 256-bit kernels' requirement: AVX2 for the integer and permute steps, FMA for the fused steps.</summary>
    public static bool HasAvx2Fma => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>2^(j/8), j = 0..7, as float hi + lo parts, one 8-lane vector each, for <see cref="ExpTable8"/>.</summary>
    private static readonly Vector256<float> Pow2EighthsHi = Pow2Eighths(false), Pow2EighthsLo = Pow2Eighths(true);

    private static Vector256<float> Pow2Eighths(bool low)
    {
        Span<float> v = stackalloc float[8];
        for (int i = 0; i < 8; i++)
        {
            double exact = Math.Pow(2, i / 8.0);
            float hi = (float)exact;
            v[i] = low ? (float)(exact - hi) : hi;
        }
        return Vector256.Create((ReadOnlySpan<float>)v);
    }

    /// <summary>
    /// e^x in float for AVX2 (no two-source permute, so the table is one register: vpermps):
    /// x = (8k + j) ln2/8 + r, |r| &lt;= ln2/16, e^x = 2^k (T_hi + T_hi p(r) + T_lo) with p a
    /// degree-5 expm1 polynomial (truncation 7e-12 relative). x - n*hi(ln2/8) is exact in one FMA
    /// (both terms are multiples of 2^-28 and the difference is below 2^-4), so the error is the
    /// final rounding plus a few hundredths of an ulp. 2^k is two exact power-of-two factors, so
    /// denormal and infinite results come out right.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpTable8(Vector256<float> x)
    {
        // Below -104 e^x rounds to 0, above 89 to +inf; the clamp keeps k in range.
        var xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-104f)), Vector256.Create(89f));
        var n = Vector256.Round(xc * Vector256.Create(11.541560327111707f)); // 8 / ln 2
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.08664339780807495f), xc); // ln2/8 rounded to float
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.380817765157417e-10f), r); // that float minus ln2/8
        var ni = Vector256.ConvertToInt32(n);
        var j = ni & Vector256.Create(7);
        var k = ni >> 3;
        var tHi = Avx2.IsSupported ? Avx2.PermuteVar8x32(Pow2EighthsHi, j) : Vector256.Shuffle(Pow2EighthsHi, j);
        var tLo = Avx2.IsSupported ? Avx2.PermuteVar8x32(Pow2EighthsLo, j) : Vector256.Shuffle(Pow2EighthsLo, j);
        var q = Vector256.FusedMultiplyAdd(r, Vector256.Create(1f / 120), Vector256.Create(1f / 24));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(1f / 6));
        q = Vector256.FusedMultiplyAdd(q, r, Vector256.Create(0.5f));
        var p = Vector256.FusedMultiplyAdd(q, r * r, r);
        var res = Vector256.FusedMultiplyAdd(tHi, p, tLo) + tHi;
        var k1 = k >> 1;
        var s1 = ((k1 + Vector256.Create(127)) << 23).AsSingle();
        var s2 = ((k - k1 + Vector256.Create(127)) << 23).AsSingle();
        var e = res * s1 * s2;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), e, x);
    }

    /// <summary>e^x evaluated in double and rounded once to float (correctly rounded in practice; 2-3x slower than the table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpViaDouble(Vector512<float> x)
    {
        var r = Vector512.Narrow(ExpDouble(Vector512.WidenLower(x)), ExpDouble(Vector512.WidenUpper(x)));
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), r, x);
    }

    /// <summary>2^(j/32), j = 0..31, as float hi + lo parts, each in two 16-lane vectors, for <see cref="ExpTable"/>.</summary>
    private static readonly Vector512<float> Pow2Hi0 = Pow2Part(0, false), Pow2Hi1 = Pow2Part(16, false),
        Pow2Lo0 = Pow2Part(0, true), Pow2Lo1 = Pow2Part(16, true);

    private static Vector512<float> Pow2Part(int first, bool low)
    {
        Span<float> v = stackalloc float[W];
        for (int i = 0; i < W; i++)
        {
            double exact = Math.Pow(2, (first + i) / 32.0);
            float hi = (float)exact;
            v[i] = low ? (float)(exact - hi) : hi;
        }
        return Vector512.Create((ReadOnlySpan<float>)v);
    }

    /// <summary>
    /// e^x in float with a 32-entry table (AVX-512 two-source permutes): x = (32k + j) ln2/32 + r,
    /// |r| &lt;= ln2/64, e^x = 2^k (T_hi + T_hi p(r) + T_lo) with p a degree-4 expm1 (truncation
    /// 1e-12), so the only sizeable error is the final rounding. 2^k is applied as two exact
    /// power-of-two factors so that denormal and infinite results come out right.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpTable(Vector512<float> x)
    {
        // Below -104 e^x rounds to 0, above 89 to +inf; the clamp keeps k in range.
        var xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-104f)), Vector512.Create(89f));
        var n = Vector512.Round(xc * Vector512.Create(46.16624130844683f)); // 32 / ln 2
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.021660849452018738f), xc); // ln2/32 rounded to float
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(5.952044412893542e-11f), r); // ln2/32 minus that float
        var ni = Vector512.ConvertToInt32(n);
        var j = ni & Vector512.Create(31);
        var k = ni >> 5;
        var tHi = Avx512F.PermuteVar16x32x2(Pow2Hi0, j, Pow2Hi1);
        var tLo = Avx512F.PermuteVar16x32x2(Pow2Lo0, j, Pow2Lo1);
        var q = Vector512.FusedMultiplyAdd(r, Vector512.Create(1f / 24), Vector512.Create(1f / 6));
        q = Vector512.FusedMultiplyAdd(q, r, Vector512.Create(0.5f));
        var p = Vector512.FusedMultiplyAdd(q, r * r, r);
        var res = Vector512.FusedMultiplyAdd(tHi, p, tLo) + tHi;
        var k1 = k >> 1;
        var s1 = ((k1 + Vector512.Create(127)) << 23).AsSingle();
        var s2 = ((k - k1 + Vector512.Create(127)) << 23).AsSingle();
        var e = res * s1 * s2;
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), e, x);
    }

    /// <summary>ln(x) per lane, 8 lanes, with the scalar MathF.Log (see <see cref="Log(Vector512{float})"/>).</summary>
    public static Vector256<float> Log(Vector256<float> x)
    {
        Span<float> lanes = stackalloc float[8];
        x.CopyTo(lanes);
        for (int i = 0; i < 8; i++) lanes[i] = MathF.Log(lanes[i]);
        return Vector256.Create((ReadOnlySpan<float>)lanes);
    }

    /// <summary>ln(x) per lane with the scalar MathF.Log (used once per pixel, so accuracy is cheap).</summary>
    public static Vector512<float> Log(Vector512<float> x)
    {
        Span<float> lanes = stackalloc float[W];
        x.CopyTo(lanes);
        for (int i = 0; i < W; i++) lanes[i] = MathF.Log(lanes[i]);
        return Vector512.Create((ReadOnlySpan<float>)lanes);
    }

    /// <summary>
    /// e^x for x in float range: x = k ln2 + r with |r| &lt;= ln2/2 (two-part ln2), e^r by its
    /// degree-10 Taylor polynomial (truncation below 1e-12), times 2^k built in the exponent bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ExpDouble(Vector512<double> x)
    {
        // Beyond these bounds the float result is already inf or 0; clamping keeps 2^k a normal double.
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-160.0)), Vector512.Create(100.0));
        var k = Vector512.Round(x * Vector512.Create(1.4426950408889634));
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-6.93147180369123816490e-01), x);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-1.90821492927058770002e-10), r);
        var p = Vector512.Create(1.0 / 3628800);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 362880));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 40320));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 5040));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<double>.One);
        var scale = (Vector512.ConvertToInt64(k) + Vector512.Create(1023L)) << 52;
        return p * scale.AsDouble();
    }
}
