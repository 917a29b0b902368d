using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ILGpuSat.Kernels.Cpu;

// 2x2 max-pool (stride 2) over planes (N*C) of size H x W and its backward, which routes each
// gradient to the first maximum of its window (PyTorch's choice; a NaN wins).
public sealed partial class CpuBackend
{
    public override void MaxPool2x2(DeviceBuffer x, int planes, int inH, int inW, DeviceBuffer y)
    {
        const string op = "max_pool2x2";
        int outH = inH / 2, outW = inW / 2;
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 3.0 * outLen, 20.0 * outLen);
        CheckPool(op, x, y, planes, inH, inW);
        var xa = HostArray(x);
        var ya = HostArray(y);
        CpuParallel.For(Threads, planes * outH, 4L * outW, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH;
                MaxPoolRow(xa, (p * inH + 2 * oh) * inW, inW, ya, r * outW, outW);
            }
        });
    }

    public override void MaxPool2x2Backward(DeviceBuffer x, DeviceBuffer dy, int planes, int inH, int inW, DeviceBuffer dx)
    {
        const string op = "max_pool2x2_bwd";
        int outH = inH / 2, outW = inW / 2;
        long outLen = (long)planes * outH * outW;
        using var _ = Profile(op, 10.0 * outLen, 8.0 * planes * inH * inW + 4.0 * outLen);
        CheckPool(op, x, dy, planes, inH, inW);
        CheckLength(op, "dx", dx, (long)planes * inH * inW);
        var xa = HostArray(x);
        var da = HostArray(dy);
        var ga = HostArray(dx);
        CpuParallel.For(Threads, planes * outH, 8L * outW, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int p = r / outH, oh = r % outH;
                int top = (p * inH + 2 * oh) * inW;
                MaxPoolGradRow(xa, da, ga, top, inW, r * outW, outW);
                // An odd last row is outside every window.
                if (oh == outH - 1 && (inH & 1) == 1) ga.AsSpan(top + 2 * inW, inW).Clear();
            }
        });
    }

    /// <summary>Even/odd lane selectors (vpermt2ps) and their inverse, for 2-wide windows along a row.</summary>
    private static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> OddLanes = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>One output row: 16 windows per step from two 32-float input row segments.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void MaxPoolRow(float[] x, int top, int inW, float[] y, int o, int outW)
    {
        ref float rx = ref SimdMath.At(x);
        ref float ry = ref SimdMath.At(y);
        int ow = 0;
        if (Avx512F.IsSupported)
        {
            for (; ow <= outW - SimdMath.W; ow += SimdMath.W)
            {
                int i = top + 2 * ow;
                // Vertical max first, then the two columns of each window; Max propagates NaN like PyTorch.
                var v0 = Vector512.Max(SimdMath.Load(ref rx, i), SimdMath.Load(ref rx, i + inW));
                var v1 = Vector512.Max(SimdMath.Load(ref rx, i + SimdMath.W), SimdMath.Load(ref rx, i + inW + SimdMath.W));
                var m = Vector512.Max(Avx512F.PermuteVar16x32x2(v0, EvenLanes, v1), Avx512F.PermuteVar16x32x2(v0, OddLanes, v1));
                SimdMath.Store(m, ref ry, o + ow);
            }
        }
        for (; ow < outW; ow++)
        {
            int i = top + 2 * ow;
            Unsafe.Add(ref ry, o + ow) = Max4(Unsafe.Add(ref rx, i), Unsafe.Add(ref rx, i + 1), Unsafe.Add(ref rx, i + inW), Unsafe.Add(ref rx, i + inW + 1));
        }
    }

    /// <summary>
    /// The gradient of one output row into its two input rows (every element written). Per window
    /// the winner is PyTorch's scan "val &gt; max || isnan(val)": the first maximum, or the last NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 first calls
    private static void MaxPoolGradRow(float[] x, float[] dy, float[] dx, int top, int inW, int o, int outW)
    {
        ref float rx = ref SimdMath.At(x);
        ref float rd = ref SimdMath.At(dy);
        ref float rg = ref SimdMath.At(dx);
        int ow = 0;
        if (Avx512F.IsSupported)
        {
            for (; ow <= outW - SimdMath.W; ow += SimdMath.W)
            {
                int i = top + 2 * ow;
                var t0 = SimdMath.Load(ref rx, i);
                var t1 = SimdMath.Load(ref rx, i + SimdMath.W);
                var b0 = SimdMath.Load(ref rx, i + inW);
                var b1 = SimdMath.Load(ref rx, i + inW + SimdMath.W);
                var a = Avx512F.PermuteVar16x32x2(t0, EvenLanes, t1); // window order: a b / c d
                var b = Avx512F.PermuteVar16x32x2(t0, OddLanes, t1);
                var c = Avx512F.PermuteVar16x32x2(b0, EvenLanes, b1);
                var d = Avx512F.PermuteVar16x32x2(b0, OddLanes, b1);
                var m = Vector512.Max(Vector512.Max(a, b), Vector512.Max(c, d));
                // Equality picks the first maximum; NaN lanes (m is NaN, no equality) pick the last NaN.
                var selA = Vector512.Equals(a, m);
                var selB = Vector512.AndNot(Vector512.Equals(b, m), selA);
                var selC = Vector512.AndNot(Vector512.AndNot(Vector512.Equals(c, m), selA), selB);
                var selD = ~(selA | selB | selC);
                var nanA = ~Vector512.Equals(a, a);
                var nanB = ~Vector512.Equals(b, b);
                var nanC = ~Vector512.Equals(c, c);
                var nanD = ~Vector512.Equals(d, d);
                var anyNan = nanA | nanB | nanC | nanD;
                var lastB = Vector512.AndNot(nanB, nanC | nanD);
                var lastC = Vector512.AndNot(nanC, nanD);
                var lastA = Vector512.AndNot(nanA, nanB | nanC | nanD);
                selA = Vector512.ConditionalSelect(anyNan, lastA, selA);
                selB = Vector512.ConditionalSelect(anyNan, lastB, selB);
                selC = Vector512.ConditionalSelect(anyNan, lastC, selC);
                selD = Vector512.ConditionalSelect(anyNan, nanD, selD);
                var g = SimdMath.Load(ref rd, o + ow);
                var ga = selA & g;
                var gb = selB & g;
                var gc = selC & g;
                var gd = selD & g;
                SimdMath.Store(Avx512F.PermuteVar16x32x2(ga, InterleaveLow, gb), ref rg, i);
                SimdMath.Store(Avx512F.PermuteVar16x32x2(ga, InterleaveHigh, gb), ref rg, i + SimdMath.W);
                SimdMath.Store(Avx512F.PermuteVar16x32x2(gc, InterleaveLow, gd), ref rg, i + inW);
                SimdMath.Store(Avx512F.PermuteVar16x32x2(gc, InterleaveHigh, gd), ref rg, i + inW + SimdMath.W);
            }
        }
        for (; ow < outW; ow++)
        {
            int i = top + 2 * ow;
            Unsafe.Add(ref rg, i) = Unsafe.Add(ref rg, i + 1) = Unsafe.Add(ref rg, i + inW) = Unsafe.Add(ref rg, i + inW + 1) = 0f;
            int k = ArgMax4(Unsafe.Add(ref rx, i), Unsafe.Add(ref rx, i + 1), Unsafe.Add(ref rx, i + inW), Unsafe.Add(ref rx, i + inW + 1), inW);
            Unsafe.Add(ref rg, i + k) = Unsafe.Add(ref rd, o + ow);
        }
        // An odd last column is outside every window.
        if ((inW & 1) == 1)
        {
            Unsafe.Add(ref rg, top + inW - 1) = 0f;
            Unsafe.Add(ref rg, top + 2 * inW - 1) = 0f;
        }
    }

    /// <summary>Max of a 2x2 window in row-major order; a NaN wins, as in PyTorch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max4(float a, float b, float c, float d)
    {
        float m = a;
        if (b > m || float.IsNaN(b)) m = b;
        if (c > m || float.IsNaN(c)) m = c;
        if (d > m || float.IsNaN(d)) m = d;
        return m;
    }

    /// <summary>Offset of the first maximum of a 2x2 window (0, 1, rowStride, rowStride+1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ArgMax4(float a, float b, float c, float d, int rowStride)
    {
        float m = a;
        int k = 0;
        if (b > m || float.IsNaN(b)) { m = b; k = 1; }
        if (c > m || float.IsNaN(c)) { m = c; k = rowStride; }
        if (d > m || float.IsNaN(d)) k = rowStride + 1;
        return k;
    }

    private static void CheckPool(string op, DeviceBuffer x, DeviceBuffer y, int planes, int inH, int inW)
    {
        if (planes <= 0 || inH < 2 || inW < 2)
            throw new ArgumentException($"{op}: needs planes > 0 and an input of at least 2x2, got planes={planes} {inH}x{inW}.");
        CheckLength(op, "x", x, (long)planes * inH * inW);
        CheckLength(op, "y/dy", y, (long)planes * (inH / 2) * (inW / 2));
    }
}
