using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ILGpuSat.Kernels.Cpu;

/// <summary>An elementwise function of one input, in vector and scalar (tail) form.</summary>
internal interface IUnaryMap
{
    Vector512<float> Apply(Vector512<float> x);
    float Apply(float x);
}

/// <summary>An elementwise function of two inputs, in vector and scalar (tail) form.</summary>
internal interface IBinaryMap
{
    Vector512<float> Apply(Vector512<float> a, Vector512<float> b);
    float Apply(float a, float b);
}

/// <summary>
/// Vector loops shared by the CPU kernels. Accurate reductions: each lane sums at most
/// <see cref="FlushBlock"/>/64 floats in single precision before the block total is widened and
/// added in double, so a sum of millions of floats keeps about 1e-7 relative error.
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

    /// <summary>y[i] = op(x[i]) for i in [start, end); x and y may be the same array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    public static void Map<T>(T op, float[] x, float[] y, int start, int end) where T : struct, IUnaryMap
    {
        ref float rx = ref At(x);
        ref float ry = ref At(y);
        int i = start;
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
    /// e^x per lane, evaluated in double and rounded once to float: within about 0.5 ulp, and exact
    /// where it should be (e^0 = 1), unlike the runtime's Vector512.Exp (up to ~1.8 ulp, e^0 = 1 + 1 ulp).
    /// Overflow gives +inf, underflow 0 (denormals kept), NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var r = Vector512.Narrow(ExpDouble(Vector512.WidenLower(x)), ExpDouble(Vector512.WidenUpper(x)));
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), r, x);
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
